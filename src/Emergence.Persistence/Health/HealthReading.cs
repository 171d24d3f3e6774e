using Emergence.Persistence.Configuration;
using Emergence.Persistence.Metrics;

namespace Emergence.Persistence.Health;

/// <summary>What the metrics' gauges report, taken from a health report: no I/O of its own.</summary>
public static class HealthReading
{
    /// <summary>The gauges' reading of <paramref name="report"/>; the off-volume targets are named from <paramref name="offsite"/> when it has any.</summary>
    public static MetricsReading From(HealthReport report, OffsiteOptions offsite)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(offsite);
        var backups = report.Backups;
        var replication = backups.Replication;
        var drill = backups.Offsite?.Drill;
        return new MetricsReading(report.CheckedAt, (int)report.Status)
        {
            VolumeFreeBytes = report.Volume.SizeAvailable,
            DatabaseBytes = report.Database.Exists ? report.Database.Size : null,
            LastBackupAt = backups.Latest?.Timestamp,
            LastBackupBytes = backups.Latest?.Size,
            BackupCount = backups.Count,
            ReplicatedTo = replication?.LagSeconds is { } lag ? report.CheckedAt.AddSeconds(-lag) : null,
            OffsiteReplicatedTo = replication?.OffsiteLagSeconds is { } offsiteLag ? report.CheckedAt.AddSeconds(-offsiteLag) : null,
            OffsiteTarget = PersistenceMetrics.Targets(offsite.AzureEnabled ? offsite.Container : null, offsite.S3.Name),
            WalBytes = replication?.LogBytes,
            LastDrillSuccessAt = drill is { Ok: true } ? drill.At : null,
        };
    }
}
