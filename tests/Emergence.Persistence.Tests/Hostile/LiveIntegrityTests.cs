using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>Health sees a corrupt page in the live database, from whichever check found it last.</summary>
public sealed class LiveIntegrityTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    /// <summary>A checkpointed database with a page deep in the file overwritten with garbage.</summary>
    private async Task<BackupManifest> CorruptAfterAGoodBackupAsync()
    {
        _h.AddNotes(3000, new string('n', 200));
        var good = await _h.BackupAsync();
        Assert.Equal(0, Shell.Run("sqlite3", _h.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
        var pageSize = int.Parse(Sqlite3.Query(_h.DatabasePath, "PRAGMA page_size;"), System.Globalization.CultureInfo.InvariantCulture);
        var pages = long.Parse(Sqlite3.Query(_h.DatabasePath, "PRAGMA page_count;"), System.Globalization.CultureInfo.InvariantCulture);
        using (var file = new FileStream(_h.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            file.Position = pageSize * (pages / 2);
            file.Write(Enumerable.Repeat((byte)0x5A, pageSize).ToArray());
        }

        return good;
    }

    [Fact]
    public async Task PeriodicCheck_CorruptPage_MakesHealthUnhealthyWithTheRestoreCommand()
    {
        var good = await CorruptAfterAGoodBackupAsync();
        Assert.Equal(HealthStatus.Healthy, _h.Get<HealthReporter>().Check(_h.Locate()).Status);

        var result = _h.Get<LiveIntegrityCheck>().Run(_h.Locate(), "periodic");
        var report = _h.Get<HealthReporter>().Check(_h.Locate());

        Assert.False(result.Ok);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal("periodic", report.Database.Integrity!.Source);
        Assert.NotEqual("ok", report.Database.Integrity.Result);
        Assert.Contains(report.Problems, p => p.Contains("failed its integrity check", StringComparison.Ordinal)
            && p.Contains($"emergence-db restore --on-next-start {good.Filename}", StringComparison.Ordinal));
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "DatabaseIntegrityFailed");
    }

    [Fact]
    public async Task FreshCheck_CorruptPage_IsUnhealthyWithoutARecord()
    {
        await CorruptAfterAGoodBackupAsync();

        var report = _h.Get<HealthReporter>().Check(_h.Locate(), freshIntegrityCheck: true);

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal("status", report.Database.Integrity!.Source);
    }

    [Fact]
    public async Task BackupOfACorruptDatabase_RecordsTheCheck_AndARestoreClearsIt()
    {
        await CorruptAfterAGoodBackupAsync();

        await Assert.ThrowsAsync<BackupFailedException>(() => _h.BackupAsync());
        var afterBackup = _h.Get<HealthReporter>().Check(_h.Locate());
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().Restore(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));
        var afterRestore = _h.Get<HealthReporter>().Check(_h.Locate());

        Assert.Equal(HealthStatus.Unhealthy, afterBackup.Status);
        Assert.Equal("backup", afterBackup.Database.Integrity!.Source);
        Assert.Equal("ok", afterRestore.Database.Integrity!.Result);
        Assert.NotEqual(HealthStatus.Unhealthy, afterRestore.Status);
        Assert.Null(afterBackup.Database.LastRestore);
        var restore = afterRestore.Database.LastRestore!;
        Assert.True(File.Exists(Path.Combine(_h.Locate().BackupDirectory, restore.Backup)), restore.Backup);
        Assert.Equal("test", restore.Reason);
        Assert.True(Directory.Exists(restore.Quarantine), restore.Quarantine);
    }
}
