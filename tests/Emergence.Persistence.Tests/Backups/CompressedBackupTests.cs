using System.IO.Compression;
using System.Security.Cryptography;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Backups;

public sealed class CompressedBackupTests : IDisposable
{
    private readonly TestHarness _h = new(new Dictionary<string, string?> { ["Persistence:Compression"] = "brotli" });

    public void Dispose() => _h.Dispose();

    private BackupEntry Entry(string name) => BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Backups.Single(b => b.Name == name);

    [Fact]
    public async Task CreateAsync_Brotli_StoresACompressedFileWhoseManifestDescribesBothForms()
    {
        _h.AddNotes(2000);

        var manifest = await _h.BackupAsync();

        Assert.Equal("database_backup_20250114_103100.sqlite.br", manifest.Filename);
        Assert.Equal("brotli", manifest.Compression);
        Assert.Equal(Sqlite3.Sha256Sum(manifest.BackupPath), manifest.Checksum);
        Assert.Equal(new FileInfo(manifest.BackupPath).Length, manifest.Size);
        using var decompressed = new MemoryStream();
        using (var brotli = new BrotliStream(File.OpenRead(manifest.BackupPath), CompressionMode.Decompress))
        {
            brotli.CopyTo(decompressed);
        }

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(decompressed.ToArray())), manifest.ContentChecksum);
        Assert.True(manifest.Size < decompressed.Length, "compressed should be smaller");
        Assert.Empty(Directory.GetFiles(_h.BackupDirectory, "*.tmp*"));
    }

    [Fact]
    public async Task CreateAsync_Brotli_SyncsOnlyTheCompressedFile()
    {
        // The uncompressed copy is read (hash, quick_check, compression) and deleted: syncing it would
        // write the whole database to the disk for nothing. The compressed file is synced as it is written.
        _h.AddNotes(2000);
        var phases = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var manifest = await _h.Get<BackupService>().CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), new InlineProgress(p => phases.Enqueue(p.Phase)), TestContext.Current.CancellationToken);

        Assert.Equal(["copy", "checksum", "quick_check", "compress", "done"], phases.Distinct());
        Assert.Equal(Sqlite3.Sha256Sum(manifest.BackupPath), manifest.Checksum);
        Assert.Empty(Directory.GetFiles(_h.BackupDirectory, "*.tmp*"));
    }

    [Fact]
    public async Task Verify_Compressed_PassesAndACorruptedByteFails()
    {
        _h.AddNotes(500);
        var manifest = await _h.BackupAsync();

        var intact = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Full, cancellationToken: TestContext.Current.CancellationToken);
        BackupVerifierTests.FlipByte(manifest.BackupPath, manifest.Size / 2);
        var damaged = _h.Get<BackupVerifier>().Verify(Entry(manifest.Filename), IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(intact.Ok, intact.Problem);
        Assert.False(damaged.Ok);
    }

    [Fact]
    public async Task VerifyCopy_Compressed_DoesNotMeasureTheCopysContent()
    {
        // A decompressed copy is not read back: a restore's proof reads the whole result.
        _h.AddNotes(500);
        var manifest = await _h.BackupAsync();
        var staging = Path.Combine(_h.BackupDirectory, "staging.sqlite");

        var copied = _h.Get<BackupVerifier>().VerifyCopy(Entry(manifest.Filename), staging, IntegrityCheck.Quick, measureContent: true, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(copied.Ok, copied.Problem);
        Assert.Null(copied.CopyContentHash);
    }

    [Fact]
    public async Task Restore_Compressed_PutsTheDecompressedDatabaseInPlace()
    {
        _h.AddNotes(700);
        var manifest = await _h.BackupAsync();
        _h.AddNotes(5, "later");

        var result = _h.WithVolumeLock((location, held) =>
            _h.Get<RestoreService>().Restore(location, held, manifest.Filename, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(manifest.Filename, result.Backup.Filename);
        Assert.Equal("700", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Equal("ok", Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
    }

    [Fact]
    public async Task CreateIfChangedAsync_Compressed_RecognisesAnUnchangedDatabase()
    {
        _h.AddNotes(50);
        await _h.BackupAsync();
        _h.Time.Advance(TimeSpan.FromHours(1));

        var again = await _h.Get<BackupService>().CreateIfChangedAsync(_h.Locate(), BackupReason.Startup, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Null(again);
    }

    [Fact]
    public async Task Rotation_MixedCompressedAndPlainBackups_CountsThemTogether()
    {
        _h.AddNotes(10);
        using var plain = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = _h.DatabasePath }, root: _h.Root);
        plain.Time.SetUtcNow(_h.Time.GetUtcNow());
        await plain.BackupAsync();
        _h.Time.SetUtcNow(plain.Time.GetUtcNow());

        for (var i = 0; i < 5; i++)
        {
            await _h.BackupAsync();
        }

        var verified = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified;
        Assert.Equal(5, verified.Count);
        Assert.All(verified, b => Assert.EndsWith(".br", b.Name, StringComparison.Ordinal));
    }
}
