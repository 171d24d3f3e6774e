namespace Emergence.Persistence.Metrics;

/// <summary>
/// The state the observable gauges report, taken from a health report the process already made (so a scrape
/// costs no I/O of its own). Every value is optional: a gauge with no value reports nothing.
/// </summary>
/// <param name="CheckedAt">When the state was measured.</param>
/// <param name="Status">The health verdict as a number: 0 healthy, 1 degraded, 2 unhealthy.</param>
public sealed record MetricsReading(DateTimeOffset CheckedAt, int Status)
{
    /// <summary>Bytes available to the process on the database's volume.</summary>
    public long? VolumeFreeBytes { get; init; }

    /// <summary>The database's size on disk: the file and its <c>-wal</c>.</summary>
    public long? DatabaseBytes { get; init; }

    /// <summary>When the newest verified backup was taken.</summary>
    public DateTimeOffset? LastBackupAt { get; init; }

    /// <summary>The newest verified backup's size.</summary>
    public long? LastBackupBytes { get; init; }

    /// <summary>Verified backups in the backup directory.</summary>
    public int? BackupCount { get; init; }

    /// <summary>Every commit before this time is in a durable segment on the volume.</summary>
    public DateTimeOffset? ReplicatedTo { get; init; }

    /// <summary>Every segment closed before this time is in the off-volume target <see cref="OffsiteTarget"/>.</summary>
    public DateTimeOffset? OffsiteReplicatedTo { get; init; }

    /// <summary>The off-volume target's name, as in the request metrics' <c>target</c> attribute.</summary>
    public string? OffsiteTarget { get; init; }

    /// <summary>The <c>-wal</c> file's size at the replicator's last poll.</summary>
    public long? WalBytes { get; init; }

    /// <summary>When the last restore drill that passed ran.</summary>
    public DateTimeOffset? LastDrillSuccessAt { get; init; }
}
