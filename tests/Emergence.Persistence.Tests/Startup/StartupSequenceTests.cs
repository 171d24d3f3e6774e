using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Records;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Backups;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Startup;

public sealed class StartupSequenceTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private async Task<StartupResult> StartAsync()
    {
        var result = await _h.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        result.Lock?.Dispose();
        return result;
    }

    private int BackupCount() => BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified.Count;

    [Fact]
    public async Task RunAsync_FreshDirectory_CreatesAndMigratesTheDatabaseAndTakesAFirstBackup()
    {
        var result = await StartAsync();

        Assert.True(result.Succeeded, result.Failure);
        Assert.True(result.Migrations!.Created);
        Assert.Equal(1, result.Migrations.ToVersion);
        Assert.Equal("1", Sqlite3.Query(_h.DatabasePath, "PRAGMA user_version;"));
        Assert.Equal("1", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM app_metadata WHERE key = 'created_at';"));
        Assert.Equal("wal", Sqlite3.Query(_h.DatabasePath, "PRAGMA journal_mode;"));
        Assert.NotNull(result.CatchUpBackup);
        Assert.Equal(1, BackupCount());
    }

    [Fact]
    public async Task RunAsync_RestartWithExistingData_KeepsItAndCreatesNoNewDatabase()
    {
        await StartAsync();
        _h.AddNotes(25);
        var createdAt = Sqlite3.Query(_h.DatabasePath, "SELECT value FROM app_metadata WHERE key = 'created_at';");
        _h.Time.Advance(TimeSpan.FromMinutes(5));

        var second = await StartAsync();

        Assert.True(second.Succeeded, second.Failure);
        Assert.False(second.Migrations!.Created);
        Assert.Equal("25", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Equal(createdAt, Sqlite3.Query(_h.DatabasePath, "SELECT value FROM app_metadata WHERE key = 'created_at';"));
    }

    [Fact]
    public async Task RunAsync_ChangedDatabase_TakesOneStartupBackupPerChange()
    {
        await StartAsync();
        _h.AddNotes(10);
        _h.Time.Advance(TimeSpan.FromMinutes(5));
        TouchAfterNewestBackup();

        var changed = await StartAsync();
        _h.Time.Advance(TimeSpan.FromMinutes(5));
        var unchanged = await StartAsync();

        Assert.NotNull(changed.StartupBackup);
        Assert.Equal("startup", changed.StartupBackup.Reason);
        Assert.Equal("10", Sqlite3.Query(changed.StartupBackup.BackupPath, "SELECT count(*) FROM notes;"));
        Assert.Null(unchanged.StartupBackup);
        Assert.Equal(2, BackupCount());
    }

    [Fact]
    public async Task RunAsync_CorruptDatabase_IsRecoveredBeforeServing()
    {
        await StartAsync();
        _h.AddNotes(500);
        _h.Time.Advance(TimeSpan.FromMinutes(5));
        TouchAfterNewestBackup();
        await StartAsync();
        using (var stream = new FileStream(_h.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 4096;
            stream.Write(new byte[4096 * 4]);
        }

        var result = await StartAsync();

        Assert.True(result.Succeeded, result.Failure);
        Assert.NotNull(result.Recovery!.Restore);
        Assert.Equal("500", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task RunAsync_RestoreRequested_PerformsItAndDeletesTheRequest()
    {
        await StartAsync();
        _h.AddNotes(3);
        var target = await _h.BackupAsync(TimeSpan.FromMinutes(5));
        _h.AddNotes(100, "regret");
        var requestPath = RestoreRequest.PathFor(_h.Locate().DatabaseDirectory);
        RestoreRequests.Write(_h.Locate().DatabaseDirectory, new RestoreRequest { Backup = target.Filename, RequestedAt = _h.Time.GetUtcNow() });

        var result = await StartAsync();

        Assert.Equal(target.Filename, result.RequestedRestore!.Backup.Filename);
        Assert.False(File.Exists(requestPath));
        Assert.Equal("3", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task RunAsync_RestoreRequestThatFails_IsKeptAsFailedReportedAndNotRetried()
    {
        await StartAsync();
        _h.AddNotes(3);
        var location = _h.Locate();
        RestoreRequests.Write(location.DatabaseDirectory, new RestoreRequest { Backup = "database_backup_20200101_000000.sqlite", RequestedAt = _h.Time.GetUtcNow() });

        var first = await StartAsync();
        var second = await StartAsync();

        Assert.Null(first.RequestedRestore);
        Assert.Contains(first.Warnings, w => w.Contains("no backup named", StringComparison.Ordinal));
        Assert.Empty(second.Warnings);
        Assert.False(File.Exists(RestoreRequest.PathFor(location.DatabaseDirectory)));
        Assert.True(File.Exists(RestoreRequest.FailedPathFor(location.DatabaseDirectory)));
        Assert.Equal("3", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        var report = _h.Get<HealthReporter>().Check(location);
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("requested restore", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_MissingDatabaseAndOnlyCorruptBackups_FailsWithoutCreatingAnEmptyDatabase()
    {
        var first = await StartAsync();
        BackupVerifierTests.FlipByte(first.CatchUpBackup!.BackupPath, 200);
        File.Delete(_h.DatabasePath);

        var result = await StartAsync();

        Assert.False(result.Succeeded);
        Assert.Equal("recover", result.FailedStep);
        Assert.False(File.Exists(_h.DatabasePath));
        Assert.Equal(HealthStatus.Unhealthy, _h.Get<HealthReporter>().Check(result.Location, result.FailureSentence).Status);
    }

    [Fact]
    public async Task RunAsync_WhileAnotherInstanceHoldsTheLock_WaitsThenReportsTheHolder()
    {
        var location = _h.Locate();
        using var other = Emergence.Persistence.Volumes.VolumeLock.TryAcquire(location.LockPath, _h.Time, out _);
        using var harness = new TestHarness(new Dictionary<string, string?> { ["Persistence:LockTimeoutSeconds"] = "1" }, root: _h.Root, realTime: true);

        var result = await harness.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal("lock", result.FailedStep);
        Assert.Contains($"pid {Environment.ProcessId}", result.Failure, StringComparison.Ordinal);
        Assert.False(File.Exists(_h.DatabasePath));
        var waiting = Assert.Single(harness.Logs.GetSnapshot(), r => r.Id.Name == "LockWaiting");
        Assert.Equal(location.LockPath, waiting.GetStructuredStateValue("LockPath"));
    }

    private void TouchAfterNewestBackup()
    {
        // The fake clock runs ahead of the file system's; make the last write look as new as the clock says.
        File.SetLastWriteTimeUtc(_h.DatabasePath, _h.Time.GetUtcNow().UtcDateTime);
    }
}
