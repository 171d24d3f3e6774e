using Emergence.Functions.Startup;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Backups;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Tests.Startup;

public sealed class StartupServiceTests : IDisposable
{
    private readonly AppHarness _app = new();

    public void Dispose() => _app.Dispose();

    private static async Task<Persistence.Startup.StartupResult> RunServiceAsync(AppHarness app)
    {
        var service = app.Get<IEnumerable<IHostedService>>().OfType<StartupService>().Single();
        await service.StartAsync(TestContext.Current.CancellationToken);
        var result = await app.Get<StartupState>().WhenCompleteAsync(TestContext.Current.CancellationToken);
        await service.StopAsync(TestContext.Current.CancellationToken);
        return result;
    }

    [Fact]
    public async Task StartAsync_FreshDirectory_CreatesAndMigratesAndReleasesTheLockOnStop()
    {
        var result = await RunServiceAsync(_app);

        Assert.True(result.Succeeded, result.Failure);
        Assert.True(File.Exists(_app.DatabasePath));
        Assert.Equal(1, result.Migrations!.ToVersion);
        Assert.False(result.Lock!.IsHeld);
    }

    [Fact]
    public async Task StartAsync_VolumeLockHeld_HealthNamesTheHolderUntilItIsReleased()
    {
        var directory = Path.GetDirectoryName(_app.DatabasePath)!;
        Directory.CreateDirectory(directory);
        var held = Persistence.Volumes.VolumeLock.TryAcquire(Path.Combine(directory, Persistence.Volumes.VolumeLock.FileName), TimeProvider.System, out _)!;
        var service = _app.Get<IEnumerable<IHostedService>>().OfType<StartupService>().Single();
        await service.StartAsync(TestContext.Current.CancellationToken);
        var state = _app.Get<StartupState>();
        for (var attempt = 0; state.LockHolder is null && attempt < 100; attempt++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var waiting = await _app.Get<Health.HealthCache>().GetAsync(TestContext.Current.CancellationToken);
        held.Dispose();
        var result = await state.WhenCompleteAsync(TestContext.Current.CancellationToken);
        await service.StopAsync(TestContext.Current.CancellationToken);

        Assert.Contains(waiting.Problems, p => p.StartsWith(StartupState.WaitingForLockProblem, StringComparison.Ordinal)
            && p.Contains($"pid {Environment.ProcessId} on {Environment.MachineName}", StringComparison.Ordinal));
        Assert.True(result.Succeeded, result.Failure);
        Assert.Null(state.LockHolder);
    }

    [Fact]
    public void TimerSettings_AreTheOnesTheTimersName()
    {
        Assert.Equal([("RestoreDrill", "DRILL_SCHEDULE"), ("ScheduledBackup", "BACKUP_SCHEDULE")], TimerSettings.Referenced.Order());
    }

    [Theory]
    [InlineData(null)]
    public async Task StartAsync_ScheduleSettingMissing_FailsAtSettingsBeforeTouchingTheVolume(string? drillSchedule)
    {
        using var app = new AppHarness(new Dictionary<string, string?> { ["DRILL_SCHEDULE"] = drillSchedule });

        var result = await RunServiceAsync(app);

        Assert.Equal("settings", result.FailedStep);
        Assert.Contains("DRILL_SCHEDULE is not set", result.Failure, StringComparison.Ordinal);
        Assert.Contains("RestoreDrill timer", result.Failure, StringComparison.Ordinal);
        Assert.DoesNotContain("BACKUP_SCHEDULE", result.Failure, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(app.DatabasePath)));
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Name == "StartupFailed" && r.Message.Contains("DRILL_SCHEDULE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_RestartWithData_KeepsItAndBacksUpOnlyWhenChanged()
    {
        await RunServiceAsync(_app);
        using (var connection = _app.Get<Persistence.Database.SqliteConnectionFactory>().OpenExisting(_app.DatabasePath))
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO app_metadata VALUES ('owner', 'ops', '2025-01-14T10:31:00Z')";
            command.ExecuteNonQuery();
        }

        File.SetLastWriteTimeUtc(_app.DatabasePath, new DateTime(2025, 1, 14, 10, 35, 0, DateTimeKind.Utc));
        _app.Time.Advance(TimeSpan.FromMinutes(10));
        using var second = new AppHarnessSharing(_app);

        var restarted = await RunServiceAsync(second.App);
        using var third = new AppHarnessSharing(_app);
        var again = await RunServiceAsync(third.App);

        Assert.NotNull(restarted.StartupBackup);
        Assert.Equal("startup", restarted.StartupBackup.Reason);
        Assert.Null(again.StartupBackup);
        Assert.False(restarted.Migrations!.Created);
        Assert.Equal(2, BackupCatalog.Scan(_app.BackupDirectory, _app.DatabasePath, _app.Time.GetUtcNow()).Verified.Count);
    }

    [Fact]
    public async Task StartAsync_CorruptDatabase_IsRecovered()
    {
        await RunServiceAsync(_app);
        File.WriteAllText(_app.DatabasePath, new string('x', 10_000));
        File.Delete(_app.DatabasePath + "-wal");
        File.Delete(_app.DatabasePath + "-shm");
        using var next = new AppHarnessSharing(_app);

        var result = await RunServiceAsync(next.App);

        Assert.True(result.Succeeded, result.Failure);
        Assert.NotNull(result.Recovery!.Restore);
        Assert.Contains(next.App.Logs.GetSnapshot(), r => r.Id.Name == "RestorePerformed" && r.Level == LogLevel.Warning);
    }

    /// <summary>A second app instance on the same directory (a restart), with its own services and logs.</summary>
    private sealed class AppHarnessSharing : IDisposable
    {
        public AppHarnessSharing(AppHarness original)
        {
            App = new AppHarness(new()
            {
                ["Persistence:DatabasePath"] = original.DatabasePath,
                ["Persistence:FallbackDirectory"] = Path.Combine(original.Root, "fallback"),
            });
            App.Time.SetUtcNow(original.Time.GetUtcNow());
        }

        public AppHarness App { get; }

        public void Dispose() => App.Dispose();
    }

    [Fact]
    public async Task StartAsync_MountTableUnreadableWhileAVolumeIsRequired_Reports503InsteadOfCrashing()
    {
        using var strict = new AppHarness(new() { ["Persistence:RequireVolume"] = "true" });
        strict.Probe.MountInfoFailure = new InvalidOperationException("mount table unavailable");

        // Unknown is not mounted: startup waits for the volume (creating nothing) instead of crashing.
        var service = strict.Get<IEnumerable<IHostedService>>().OfType<StartupService>().Single();
        await service.StartAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 200 && strict.Get<StartupState>().VolumeProblem is null; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        var health = Assert.IsType<Microsoft.AspNetCore.Mvc.ContentResult>(
            await strict.Create<Emergence.Functions.Functions.HealthFunction>().Run(new Microsoft.AspNetCore.Http.DefaultHttpContext().Request));
        await service.StopAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(strict.Get<StartupState>().VolumeProblem);
        Assert.Null(strict.Get<StartupState>().Result);
        Assert.Equal(503, health.StatusCode);
        Assert.Contains("is not a mounted volume", health.Content, StringComparison.Ordinal);
    }
}
