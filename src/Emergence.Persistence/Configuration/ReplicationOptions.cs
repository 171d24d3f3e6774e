namespace Emergence.Persistence.Configuration;

/// <summary>Continuous WAL replication: <c>Persistence__Replication__*</c>.</summary>
public sealed class ReplicationOptions
{
    /// <summary>The default interval between reads of the log, in seconds.</summary>
    public const int DefaultIntervalSeconds = 1;

    /// <summary>The default lag beyond which health is degraded, in seconds.</summary>
    public const int DefaultMaxLagSeconds = 30;

    /// <summary>The default log size at which the replicator checkpoints so the log can restart.</summary>
    public const long DefaultCheckpointBytes = 4L << 20;

    /// <summary>Whether the function app replicates (<c>Persistence__Replication__Enabled</c>, default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the log is read and new commits made durable in a segment (<c>Persistence__Replication__IntervalSeconds</c>).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(DefaultIntervalSeconds);

    /// <summary>Health is degraded when the newest commit not yet in a durable segment is older than this (<c>Persistence__Replication__MaxLagSeconds</c>).</summary>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(DefaultMaxLagSeconds);

    /// <summary>At this log size the replicator checkpoints, briefly holding the write lock, so the log restarts (<c>Persistence__Replication__CheckpointBytes</c>).</summary>
    public long CheckpointBytes { get; set; } = DefaultCheckpointBytes;
}
