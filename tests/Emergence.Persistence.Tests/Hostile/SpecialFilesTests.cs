using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>Files that are not regular files, and other programs' files, in the places this project reads and sweeps.</summary>
public sealed class SpecialFilesTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static void MakeFifo(string path) => Assert.Equal(0, Shell.Run("mkfifo", path).Exit);

    private static Task<T> Bounded<T>(Func<T> work) => Task.Run(work).WaitAsync(Bound, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Sweep_ForeignTempFiles_AreNeverDeleted()
    {
        _h.AddNotes(5);
        Directory.CreateDirectory(_h.BackupDirectory);
        string[] foreign = ["upload.tmp", "database.sqlite.tmp", "report.json.tmp", "other_backup_20250114_103000.sqlite.tmp"];
        foreach (var name in foreign)
        {
            await File.WriteAllTextAsync(Path.Combine(_h.BackupDirectory, name), "someone else's", TestContext.Current.CancellationToken);
        }

        var ours = Path.Combine(_h.BackupDirectory, "database_backup_20250101_000000.sqlite.tmp");
        await File.WriteAllTextAsync(ours, "interrupted", TestContext.Current.CancellationToken);

        await _h.BackupAsync();

        Assert.All(foreign, name => Assert.True(File.Exists(Path.Combine(_h.BackupDirectory, name)), name));
        Assert.False(File.Exists(ours));
    }

    [Fact]
    public async Task FifoAndLinkToDevZero_InTheBackupDirectory_AreReportedNotWaitedOn()
    {
        _h.AddNotes(5);
        var good = await _h.BackupAsync();
        var fifoBackup = await _h.BackupAsync();
        var zeroManifest = await _h.BackupAsync();
        File.Delete(fifoBackup.BackupPath);
        MakeFifo(fifoBackup.BackupPath);
        File.Delete(zeroManifest.BackupPath + ".json");
        File.CreateSymbolicLink(zeroManifest.BackupPath + ".json", "/dev/zero");
        MakeFifo(Path.Combine(_h.BackupDirectory, BackupActivity.FileName));

        var inventory = await Bounded(() => BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()));
        var report = await Bounded(() => _h.Get<HealthReporter>().Check(_h.Locate()));
        var restored = await Bounded(() => _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().Restore(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken)));

        Assert.Contains("FIFO", inventory.Backups.Single(b => b.Name == fifoBackup.Filename).ManifestError, StringComparison.Ordinal);
        Assert.Contains("symbolic link", inventory.Backups.Single(b => b.Name == zeroManifest.Filename).ManifestError, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Problems, p => p.Contains("health check itself failed", StringComparison.Ordinal));
        Assert.Equal(good.Filename, restored.Backup.Filename);
    }

    [Fact]
    public async Task FifoAtTheDatabasePath_IsUnopenableAndHealthAnswers()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        MakeFifo(_h.DatabasePath);

        var probe = await Bounded(() => _h.Get<DatabaseProbe>().Probe(_h.DatabasePath));
        var report = await Bounded(() => _h.Get<HealthReporter>().Check(_h.Locate()));

        Assert.Equal(DatabaseCondition.Unopenable, probe.Condition);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("is a FIFO (named pipe), not a database file", StringComparison.Ordinal));
        var failure = await Assert.ThrowsAsync<BackupFailedException>(() => _h.BackupAsync().WaitAsync(Bound, TestContext.Current.CancellationToken));
        Assert.Equal("preflight", failure.Step);
    }

    [Fact]
    public async Task OversizedManifest_IsRefusedWithItsSize()
    {
        _h.AddNotes(5);
        var backup = await _h.BackupAsync();
        await File.WriteAllTextAsync(backup.BackupPath + ".json", new string(' ', 1 << 20), TestContext.Current.CancellationToken);

        var entry = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Backups.Single();

        Assert.Contains("more than the 65536 a record may have", entry.ManifestError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlCharactersInAManifest_AreEscapedInMessages()
    {
        _h.AddNotes(5);
        var backup = await _h.BackupAsync();
        Backups.BackupVerifierTests.EditManifest(backup, m => m["filename"] = "x\nfake line\u001b[31m");

        var entry = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Backups.Single();

        Assert.DoesNotContain('\n', entry.ManifestError!);
        Assert.DoesNotContain('\u001b', entry.ManifestError!);
        Assert.Contains("x\\nfake line\\u001b[31m", entry.ManifestError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatalogReaders_WhileAnotherProcessRotates_NeverFail()
    {
        using var rotating = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = _h.DatabasePath, ["Persistence:KeepBackups"] = "1", ["Persistence:KeepDaily"] = "0", ["Persistence:KeepWeekly"] = "0" }, root: _h.Root);
        _h.AddNotes(50);
        await rotating.BackupAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var writer = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                rotating.AddNotes(1, $"r{n++}");
                await rotating.BackupAsync(TimeSpan.FromSeconds(1));
            }
        }, TestContext.Current.CancellationToken);

        var reads = 0;
        while (!writer.IsCompleted)
        {
            var inventory = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow());
            Assert.DoesNotContain(inventory.Backups, b => b.ManifestError is { } e && e.Contains("cannot be read", StringComparison.Ordinal));
            var report = _h.Get<HealthReporter>().Check(_h.Locate());
            Assert.DoesNotContain(report.Problems, p => p.Contains("health check itself failed", StringComparison.Ordinal));
            reads++;
        }

        await writer;
        Assert.True(reads > 10, $"only {reads} reads overlapped the rotation");
    }

    [Fact]
    public async Task Quarantine_IsBoundedToTheNewestKeepBackupsDirectories()
    {
        _h.AddNotes(5);
        await _h.BackupAsync();
        var root = Path.Combine(_h.BackupDirectory, RestoreService.QuarantineDirectoryName);
        var names = Enumerable.Range(1, 8).Select(i => $"202501{i:00}_120000").ToList();
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            await File.WriteAllTextAsync(Path.Combine(root, name, "database.sqlite"), "replaced", TestContext.Current.CancellationToken);
        }

        Directory.CreateDirectory(Path.Combine(root, "keep-me"));

        await _h.BackupAsync();

        var left = Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([.. names.TakeLast(_h.Options.KeepBackups), "keep-me"], left);
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "QuarantinePruned");
    }
}
