using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Backups;
using Emergence.Persistence.Tests.Support;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Recovery;

public sealed class RestoreServiceTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private RestoreResult Restore(string? name, bool force) =>
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().Restore(location, held, name, force, "test", cancellationToken: TestContext.Current.CancellationToken));

    [Fact]
    public async Task Restore_HealthyDatabaseWithoutForce_IsRefusedAndChangesNothing()
    {
        _h.AddNotes(10);
        await _h.BackupAsync();
        _h.AddNotes(5, "after");

        var refused = Assert.Throws<RestoreFailedException>(() => Restore(null, force: false));

        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);
        Assert.Equal("15", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.False(Directory.Exists(Path.Combine(_h.BackupDirectory, "quarantine")));
    }

    [Fact]
    public async Task Restore_WithForce_PutsTheBackupInPlaceAndQuarantinesTheDatabaseWithItsWal()
    {
        _h.AddNotes(10);
        var backup = await _h.BackupAsync();
        _h.AddNotes(5, "after");

        var result = Restore(null, force: true);

        Assert.Equal(backup.Filename, result.Backup.Filename);
        Assert.Equal("10", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.NotNull(result.QuarantineDirectory);
        Assert.StartsWith(Path.Combine(_h.BackupDirectory, "quarantine"), result.QuarantineDirectory, StringComparison.Ordinal);
        Assert.Equal("15", Sqlite3.Query(Path.Combine(result.QuarantineDirectory, "database.sqlite"), "SELECT count(*) FROM notes;"));
        Assert.False(File.Exists(_h.DatabasePath + "-wal") && new FileInfo(_h.DatabasePath + "-wal").Length > 0);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_h.DatabasePath)!, "*.tmp*"));
        var logged = Assert.Single(_h.Logs.GetSnapshot(), r => r.Id.Name == "RestorePerformed");
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Equal(backup.Filename, logged.GetStructuredStateValue("BackupName"));
    }

    [Fact]
    public async Task Restore_NewestBackupCorrupted_SkipsToTheNextGoodOne()
    {
        _h.AddNotes(10);
        var good = await _h.BackupAsync();
        _h.AddNotes(5, "more");
        var newest = await _h.BackupAsync();
        BackupVerifierTests.FlipByte(newest.BackupPath, 4200);
        File.Delete(_h.DatabasePath);

        var result = Restore(null, force: false);

        Assert.Equal(good.Filename, result.Backup.Filename);
        Assert.Equal(newest.Filename, Assert.Single(result.Skipped).Name);
        Assert.Equal("10", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Null(result.QuarantineDirectory);
    }

    [Fact]
    public async Task Restore_NamedBackup_RestoresExactlyThatOne()
    {
        _h.AddNotes(3);
        var older = await _h.BackupAsync();
        _h.AddNotes(3);
        await _h.BackupAsync();

        var result = Restore(older.Filename, force: true);

        Assert.Equal(older.Filename, result.Backup.Filename);
        Assert.Equal("3", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("backups/database_backup_20250114_103100.sqlite")]
    [InlineData("database.sqlite")]
    public async Task Restore_NameThatIsNotABackupName_IsRejectedAndNothingChanges(string name)
    {
        _h.AddNotes(3);
        await _h.BackupAsync();
        File.Delete(_h.DatabasePath);

        Assert.Throws<InvalidBackupNameException>(() => Restore(name, force: true));

        Assert.False(File.Exists(_h.DatabasePath));
    }

    [Fact]
    public async Task Restore_BackupThatIsASymlinkOutOfTheDirectory_IsNeverRead()
    {
        _h.AddNotes(3);
        var real = await _h.BackupAsync();
        var outside = Path.Combine(_h.Root, "outside.sqlite");
        File.Copy(real.BackupPath, outside);
        var linkName = "database_backup_20300101_000000.sqlite";
        File.CreateSymbolicLink(Path.Combine(_h.BackupDirectory, linkName), outside);
        File.Copy(real.BackupPath + ".json", Path.Combine(_h.BackupDirectory, linkName + ".json"));
        File.Delete(_h.DatabasePath);

        var refused = Assert.Throws<RestoreFailedException>(() => Restore(linkName, force: true));

        Assert.Contains("symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_h.DatabasePath));
        Assert.True(File.Exists(outside));
    }

    [Fact]
    public void Restore_WithoutTheVolumeLock_Throws()
    {
        var location = _h.Locate();
        var otherLock = VolumeLock.TryAcquire(Path.Combine(_h.Root, "other.lock"), _h.Time, out _)!;
        using (otherLock)
        {
            Assert.Throws<InvalidOperationException>(() => _h.Get<RestoreService>().Restore(location, otherLock, null, true, "test", cancellationToken: TestContext.Current.CancellationToken));
        }
    }
}
