using System.Diagnostics.Metrics;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Emergence.Persistence.Tests.Metrics;

public sealed class PersistenceMetricsTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private MetricCollector<T> Collect<T>(string instrument) where T : struct =>
        new(_h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, instrument);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BackupCompleted_WrittenThenUnchanged_CountsOkThenUnchangedWithDurations()
    {
        using var backups = Collect<long>("emergence.backups");
        using var durations = Collect<double>("emergence.backup.duration");
        _h.AddNotes(5);

        await _h.BackupAsync();
        var unchanged = await _h.Get<BackupService>().CreateIfChangedAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: Token);

        Assert.Null(unchanged);
        Assert.Equal([MetricResults.Ok, MetricResults.Unchanged], backups.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!));
        Assert.All(backups.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
        Assert.Equal([MetricResults.Ok, MetricResults.Unchanged], durations.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!));
        Assert.All(durations.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
    }

    [Fact]
    public async Task BackupCompleted_LockHeldOrDatabaseMissing_CountsBusyAndFailed()
    {
        using var backups = Collect<long>("emergence.backups");
        _h.AddNotes(5);
        var location = _h.Locate();
        Directory.CreateDirectory(location.BackupDirectory);
        var service = _h.Get<BackupService>();

        using (Emergence.Persistence.Volumes.VolumeLock.TryAcquire(Path.Combine(location.BackupDirectory, BackupService.LockFileName), _h.Time, out _))
        {
            await Assert.ThrowsAsync<BackupInProgressException>(() => service.CreateAsync(location, BackupReason.Manual, TimeSpan.Zero, cancellationToken: Token));
        }

        File.Delete(location.DatabasePath);
        await Assert.ThrowsAsync<BackupFailedException>(() => service.CreateAsync(location, BackupReason.Manual, TimeSpan.Zero, cancellationToken: Token));

        Assert.Equal([MetricResults.Busy, MetricResults.Failed], backups.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!));
    }

    [Fact]
    public void Gauges_Reading_ReportLagFromNowAndTheReadingsValues()
    {
        var metrics = _h.Get<PersistenceMetrics>();
        var now = _h.Time.GetUtcNow();
        metrics.ObserveWith(() => new MetricsReading(now, 1)
        {
            ReplicatedTo = now.AddSeconds(-3),
            OffsiteReplicatedTo = now.AddSeconds(-40),
            OffsiteTarget = PersistenceMetrics.AzureTarget("backups"),
            LastBackupAt = now.AddMinutes(-30),
            VolumeFreeBytes = 1234,
        });
        using var lag = Collect<double>("emergence.replication.lag");
        using var offsiteLag = Collect<double>("emergence.offsite.lag");
        using var status = Collect<double>("emergence.health.status");
        using var lastBackup = Collect<double>("emergence.backup.last_success.timestamp");
        using var free = Collect<double>("emergence.volume.free");
        using var size = Collect<double>("emergence.database.size");
        _h.Time.Advance(TimeSpan.FromSeconds(2));

        foreach (var collector in new[] { lag, offsiteLag, status, lastBackup, free, size })
        {
            collector.RecordObservableInstruments();
        }

        Assert.Equal(5, lag.LastMeasurement!.Value);
        Assert.Equal(42, offsiteLag.LastMeasurement!.Value);
        Assert.Equal("azure:backups", offsiteLag.LastMeasurement.Tags["target"]);
        Assert.Equal(1, status.LastMeasurement!.Value);
        Assert.Equal(now.AddMinutes(-30).ToUnixTimeSeconds(), lastBackup.LastMeasurement!.Value);
        Assert.Equal(1234, free.LastMeasurement!.Value);
        Assert.Null(size.LastMeasurement); // nothing to report: absent, not zero
    }

    [Fact]
    public void DrillCompleted_Passed_SetsTheLastSuccessTimeAndCountsByResult()
    {
        var metrics = _h.Get<PersistenceMetrics>();
        var at = _h.Time.GetUtcNow();
        using var drills = Collect<long>("emergence.drills");
        using var lastSuccess = Collect<double>("emergence.drill.last_success.timestamp");
        metrics.ObserveWith(() => new MetricsReading(at, 0));

        metrics.DrillCompleted(ok: true, at, TimeSpan.FromSeconds(3));
        metrics.DrillCompleted(ok: false, at.AddHours(1), TimeSpan.FromSeconds(1));
        lastSuccess.RecordObservableInstruments();

        Assert.Equal([MetricResults.Ok, MetricResults.Failed], drills.GetMeasurementSnapshot().Select(m => (string)m.Tags["result"]!));
        Assert.Equal(at.ToUnixTimeSeconds(), lastSuccess.LastMeasurement!.Value);
    }
}
