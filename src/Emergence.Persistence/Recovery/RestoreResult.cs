using Emergence.Persistence.Backups;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>What a restore did.</summary>
/// <param name="DatabasePath">The database that was restored.</param>
/// <param name="Backup">The manifest of the backup put in place.</param>
/// <param name="QuarantineDirectory">Where the replaced files went, or <see langword="null"/> when nothing was replaced.</param>
/// <param name="Skipped">Backups that failed verification and were passed over, newest first.</param>
/// <param name="OffsiteContainer">The off-volume container the backup was downloaded from, or <see langword="null"/> for a local backup.</param>
public sealed record RestoreResult(string DatabasePath, BackupManifest Backup, string? QuarantineDirectory, IReadOnlyList<BackupVerification> Skipped, string? OffsiteContainer = null)
{
    /// <summary>For a restore to a point: what the replay of segments after the backup did; <see langword="null"/> for a plain restore.</summary>
    public SegmentReplay.Result? Replay { get; init; }

    /// <summary>The newest state restored: the last replayed commit's time, else the backup's.</summary>
    public DateTimeOffset RestoredTo => Replay?.ReachedAt ?? Backup.Timestamp;
}
