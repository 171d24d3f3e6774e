using System.Text.Json;
using Emergence.Functions.Functions;
using Emergence.Functions.Startup;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Volumes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Tests.Functions;

public sealed class BackupFunctionsTests : IDisposable
{
    private readonly AppHarness _app = new();

    public void Dispose() => _app.Dispose();

    private Task RunTimerAsync() => _app.Create<ScheduledBackupFunction>().Run(new TimerInfo(), TestContext.Current.CancellationToken);

    private int Verified() => BackupCatalog.Scan(_app.BackupDirectory, _app.DatabasePath, _app.Time.GetUtcNow()).Verified.Count;

    [Fact]
    public async Task Timer_Run_TakesAVerifiedScheduledBackupAndRotates()
    {
        await _app.StartAsync();

        for (var i = 0; i < 6; i++)
        {
            _app.Time.Advance(TimeSpan.FromHours(1));
            await RunTimerAsync();
        }

        var newest = BackupCatalog.Scan(_app.BackupDirectory, _app.DatabasePath, _app.Time.GetUtcNow()).Verified[0];
        Assert.Equal(5, Verified());
        Assert.Equal("scheduled", newest.Manifest!.Reason);
        Assert.Equal("database_backup_20250114_163000.sqlite", newest.Name);
        var verification = _app.Get<BackupVerifier>().Verify(newest, Persistence.Database.IntegrityCheck.Full, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(verification.Ok, verification.Problem);
        Assert.Contains(_app.Logs.GetSnapshot(), r => r.Id.Name == "BackupRotated");
    }

    [Fact]
    public async Task Timer_Failure_IsLoggedRecordedAndSurfacedByHealth()
    {
        await _app.StartAsync();
        _app.Time.Advance(TimeSpan.FromHours(1));
        // A directory where this run's manifest must go: the backup fails at its last step.
        Directory.CreateDirectory(Path.Combine(_app.BackupDirectory, "database_backup_20250114_113000.sqlite.json"));

        await RunTimerAsync();

        var failed = Assert.Single(_app.Logs.GetSnapshot(), r => r.Id.Name == "BackupFailed");
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Equal("scheduled", failed.GetStructuredStateValue("Reason"));
        Assert.Equal("manifest", failed.GetStructuredStateValue("Step"));
        Assert.Equal(1, Verified());
        var health = Assert.IsType<ContentResult>(await _app.Create<HealthFunction>().Run(new DefaultHttpContext().Request));
        var body = JsonDocument.Parse(health.Content!).RootElement;
        Assert.Equal(200, health.StatusCode);
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        Assert.Contains("step 'manifest'", body.GetProperty("backups").GetProperty("last_error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timer_StartupFailed_SkipsWithAWarning()
    {
        var location = _app.Get<Persistence.Database.DatabaseLocator>().Configured();
        _app.Get<StartupState>().Complete(new Persistence.Startup.StartupResult { Location = location, FailedStep = "lock", Failure = "held by pid 1" });

        await RunTimerAsync();

        var skipped = Assert.Single(_app.Logs.GetSnapshot(), r => r.Id.Name == "ScheduledBackupSkipped");
        Assert.Equal(LogLevel.Warning, skipped.Level);
        Assert.Equal("Startup failed at step 'lock': held by pid 1", skipped.GetStructuredStateValue("StartupFailure"));
        Assert.Equal(0, Verified());
    }

    [Fact]
    public async Task CreateBackup_Post_Answers201WithTheManifest()
    {
        await _app.StartAsync();
        _app.Time.Advance(TimeSpan.FromMinutes(1));

        var result = Assert.IsType<ContentResult>(await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request));

        Assert.Equal(201, result.StatusCode);
        var manifest = JsonDocument.Parse(result.Content!).RootElement;
        Assert.Equal("manual", manifest.GetProperty("reason").GetString());
        Assert.Equal("ok", manifest.GetProperty("quick_check").GetString());
        Assert.Equal(2, Verified());
    }

    [Fact]
    public async Task CreateBackup_WhileAnotherBackupRuns_Answers409()
    {
        await _app.StartAsync();
        using var running = VolumeLock.TryAcquire(Path.Combine(_app.BackupDirectory, BackupService.LockFileName), TimeProvider.System, out _);

        var result = Assert.IsType<ContentResult>(await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request));

        Assert.Equal(409, result.StatusCode);
        Assert.Contains("another backup is running", JsonDocument.Parse(result.Content!).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListBackups_Get_ListsNewestFirst()
    {
        await _app.StartAsync();
        _app.Time.Advance(TimeSpan.FromMinutes(1));
        await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request);

        var result = Assert.IsType<ContentResult>(_app.Create<ListBackupsFunction>().Run(new DefaultHttpContext().Request));

        Assert.Equal(200, result.StatusCode);
        var rows = JsonDocument.Parse(result.Content!).RootElement.EnumerateArray().ToList();
        Assert.Equal(["database_backup_20250114_103100.sqlite", "database_backup_20250114_103000.sqlite"], rows.Select(r => r.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ListBackups_BackupStampedAnHourInTheFuture_ListsItLastAsRotationAndRestoreOrderIt()
    {
        await _app.StartAsync();
        using (var skewed = new AppHarness(new() { ["Persistence:DatabasePath"] = _app.DatabasePath }))
        {
            // Another container on the same volume whose clock runs an hour ahead.
            skewed.Time.Advance(TimeSpan.FromHours(1));
            await skewed.Get<BackupService>().CreateAsync(skewed.Get<DatabaseLocator>().Configured(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
        }

        _app.Time.Advance(TimeSpan.FromMinutes(1));
        var result = Assert.IsType<ContentResult>(_app.Create<ListBackupsFunction>().Run(new DefaultHttpContext().Request));

        var rows = JsonDocument.Parse(result.Content!).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["database_backup_20250114_103000.sqlite", "database_backup_20250114_113000.sqlite"], rows);
        var asRotationSeesIt = BackupCatalog.Scan(_app.BackupDirectory, _app.DatabasePath, _app.Time.GetUtcNow()).Backups.Select(b => b.Name);
        Assert.Equal(asRotationSeesIt, rows);
    }

    [Fact]
    public async Task CreateBackup_WhileStartupRuns_Answers503AtOnce()
    {
        var result = Assert.IsType<ContentResult>(await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request));

        Assert.Equal(503, result.StatusCode);
        Assert.Equal(StartupState.StartingProblem, JsonDocument.Parse(result.Content!).RootElement.GetProperty("error").GetString());
        Assert.False(Directory.Exists(_app.BackupDirectory));
    }
}
