namespace Emergence.Persistence.Records;

/// <summary>A restore drill's result.</summary>
/// <param name="At">When the drill ran.</param>
/// <param name="Ok">Whether the newest off-volume backup downloaded and verified.</param>
/// <param name="Backup">The backup drilled, when there was one.</param>
/// <param name="BackupTimestamp">When that backup was taken.</param>
/// <param name="Problem">What failed, when it failed.</param>
/// <param name="DurationMs">How long the download and checks took.</param>
public sealed record DrillResult(DateTimeOffset At, bool Ok, string? Backup, DateTimeOffset? BackupTimestamp, string? Problem, long DurationMs);
