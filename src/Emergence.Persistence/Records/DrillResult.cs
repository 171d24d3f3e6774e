namespace Emergence.Persistence.Records;

/// <summary>A restore drill's result.</summary>
/// <param name="At">When the drill ran.</param>
/// <param name="Ok">Whether the newest off-volume backup downloaded and verified, and the segments after it replayed onto it whole and verified.</param>
/// <param name="Backup">The backup drilled, when there was one.</param>
/// <param name="BackupTimestamp">When that backup was taken.</param>
/// <param name="Problem">What failed, when it failed.</param>
/// <param name="DurationMs">How long the download and checks took.</param>
public sealed record DrillResult(DateTimeOffset At, bool Ok, string? Backup, DateTimeOffset? BackupTimestamp, string? Problem, long DurationMs)
{
    /// <summary>The newest point the drill restored: the last replayed commit's time, else the backup's.</summary>
    public DateTimeOffset? RestoredTo { get; init; }

    /// <summary>How many segments copied off the volume were replayed after the backup.</summary>
    public int Segments { get; init; }
}
