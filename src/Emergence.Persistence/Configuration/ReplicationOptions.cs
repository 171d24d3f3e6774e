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

    /// <summary>The default restore window, in days.</summary>
    public const int DefaultRestoreWindowDays = 7;

    /// <summary>The longest restore window, in days.</summary>
    public const int MaxRestoreWindowDays = 30;

    /// <summary>The default time back every commit stays a point of its own, in minutes.</summary>
    public const int DefaultEveryCommitMinutes = 60;

    /// <summary>Whether the function app replicates (<c>Persistence__Replication__Enabled</c>, default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the log is read and new commits made durable in a segment (<c>Persistence__Replication__IntervalSeconds</c>).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(DefaultIntervalSeconds);

    /// <summary>Health is degraded when the newest commit not yet in a durable segment is older than this (<c>Persistence__Replication__MaxLagSeconds</c>).</summary>
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(DefaultMaxLagSeconds);

    /// <summary>At this log size the replicator checkpoints, briefly holding the write lock, so the log restarts (<c>Persistence__Replication__CheckpointBytes</c>).</summary>
    public long CheckpointBytes { get; set; } = DefaultCheckpointBytes;

    /// <summary>How far back a point can be restored (<c>Persistence__Replication__RestoreWindowDays</c>, 1 to 30): the history keeps what that needs, and no more.</summary>
    public TimeSpan RestoreWindow { get; set; } = TimeSpan.FromDays(DefaultRestoreWindowDays);

    /// <summary>How far back every replicated commit (each poll's) stays a point of its own (<c>Persistence__Replication__EveryCommitMinutes</c>); older history is kept by the minute, then by the hour.</summary>
    public TimeSpan EveryCommit { get; set; } = TimeSpan.FromMinutes(DefaultEveryCommitMinutes);
}
