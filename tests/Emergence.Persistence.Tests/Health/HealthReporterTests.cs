using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Records;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Health;

public sealed class HealthReporterTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private async Task StartAsync()
    {
        var result = await _h.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        result.Lock?.Dispose();
    }

    private HealthReport Check() => _h.Get<HealthReporter>().Check(_h.Locate());

    [Fact]
    public async Task Check_AfterStartup_IsHealthyWithTheDocumentedFields()
    {
        await StartAsync();

        var report = Check();

        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Empty(report.Problems);
        Assert.True(report.Database.Exists);
        Assert.Equal(1, report.Backups.Count);
        Assert.Equal(0, report.Backups.LatestAgeSeconds);
        Assert.Equal(new DateTimeOffset(2025, 1, 14, 11, 0, 0, TimeSpan.Zero), report.Backups.NextDue);
        var json = System.Text.Json.JsonSerializer.Serialize(report, PersistenceJson.Options);
        foreach (var field in new[] { "\"status\": \"healthy\"", "\"checked_at\": \"2025-01-14T10:30:00Z\"", "\"mounted\"", "\"size_available\"", "\"database_exists\"", "\"last_check\"", "\"filesystem\"", "\"mount_point\"", "\"expected_mount_path\"", "\"on_volume\"", "\"fallback\"", "\"sqlite_version\"", "\"latest_age_seconds\"", "\"next_due\"", "\"last_error\"", "\"problems\": []" })
        {
            Assert.Contains(field, json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Check_NewestBackupOlderThanTwoIntervals_IsDegradedWithASentence()
    {
        await StartAsync();
        _h.Time.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1));

        var report = Check();

        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.StartsWith("The newest backup, database_backup_20250114_103000.sqlite, is 2 h 1 min old", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_LastBackupFailed_IsDegradedAndCarriesTheError()
    {
        await StartAsync();
        _h.Get<BackupActivity>().RecordFailure(_h.BackupDirectory, _h.Time.GetUtcNow(), "Backup failed at step 'copy' (/x): disk full");

        var report = Check();

        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Equal("Backup failed at step 'copy' (/x): disk full", report.Backups.LastError);
    }

    [Fact]
    public void Check_NoDatabaseYet_IsUnhealthyAndCreatesNoFile()
    {
        var report = Check();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(report.Problems, p => p == $"The database file {_h.DatabasePath} does not exist.");
        Assert.Contains(report.Problems, p => p.StartsWith("No verified backup exists yet", StringComparison.Ordinal));
        Assert.False(File.Exists(_h.DatabasePath));
    }

    [Fact]
    public async Task Check_RequiredVolumeNotMounted_IsUnhealthyNamingThePath()
    {
        using var strict = new TestHarness(new Dictionary<string, string?> { ["Persistence:RequireVolume"] = "true" }, root: _h.Root);
        strict.Probe.MountInfo = "1 0 8:1 / / rw - overlay overlay rw\n";
        var started = await strict.Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        started.Lock?.Dispose();

        var report = strict.Get<HealthReporter>().Check(strict.Locate());

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        var directory = Path.GetDirectoryName(strict.DatabasePath);
        Assert.Contains(report.Problems, p => p.StartsWith($"The database directory {directory} is not a mounted volume", StringComparison.Ordinal));
        Assert.False(report.Database.OnVolume);
    }

    [Fact]
    public async Task Check_RailwayMountedTheVolumeElsewhere_IsUnhealthyNamingBothPaths()
    {
        await StartAsync();
        _h.Probe.Environment["RAILWAY_VOLUME_MOUNT_PATH"] = "/app/storage";

        var report = Check();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        var directory = Path.GetDirectoryName(_h.DatabasePath);
        Assert.Contains(report.Problems, p => p.Contains("/app/storage", StringComparison.Ordinal) && p.Contains(directory!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_DatabaseNotADatabase_IsUnhealthy()
    {
        await StartAsync();
        File.Delete(_h.DatabasePath + "-wal");
        File.Delete(_h.DatabasePath + "-shm");
        File.WriteAllText(_h.DatabasePath, new string('x', 8192));

        var report = Check();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("cannot be read", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_StartupFailure_IsUnhealthyWithItsSentence()
    {
        var report = _h.Get<HealthReporter>().Check(_h.Locate(), "Startup failed at step 'lock': held");

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal("Startup failed at step 'lock': held", report.Problems[0]);
    }

    [Fact]
    public async Task Check_AnotherProcessesFailedBackup_IsReportedUntilABackupSucceeds()
    {
        await StartAsync();
        Directory.CreateDirectory(Path.Combine(_h.BackupDirectory, "database_backup_20250114_103100.sqlite.json"));
        await Assert.ThrowsAsync<BackupFailedException>(() => _h.BackupAsync());
        using var other = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = _h.DatabasePath }, root: _h.Root);
        other.Time.SetUtcNow(_h.Time.GetUtcNow());

        var seen = other.Get<HealthReporter>().Check(other.Locate());
        await other.BackupAsync();
        var cleared = other.Get<HealthReporter>().Check(other.Locate());

        Assert.Equal(HealthStatus.Degraded, seen.Status);
        Assert.Contains("step 'manifest'", seen.Backups.LastError, StringComparison.Ordinal);
        Assert.Null(cleared.Backups.LastError);
        Assert.False(File.Exists(Path.Combine(_h.BackupDirectory, BackupActivity.FileName)));
    }
}
