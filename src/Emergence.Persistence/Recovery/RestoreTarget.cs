namespace Emergence.Persistence.Recovery;

/// <summary>
/// What a restore puts back: a backup as it is (one named, or the newest that verifies), or a point of the
/// replicated history (the newest provable one, or the newest seen at or before a time), which is a base backup
/// with the history after its log point replayed onto it.
/// </summary>
public sealed record RestoreTarget
{
    private RestoreTarget(string? backupName, bool isPoint, DateTimeOffset? time)
    {
        BackupName = backupName;
        IsPoint = isPoint;
        Time = time;
    }

    /// <summary>The backup asked for by name; <see langword="null"/> for the newest one (or for a point).</summary>
    public string? BackupName { get; }

    /// <summary>Whether the history after the base backup is replayed (a point), or the backup is restored as it is.</summary>
    public bool IsPoint { get; }

    /// <summary>For a point, the time asked; <see langword="null"/> for the newest provable point.</summary>
    public DateTimeOffset? Time { get; }

    /// <summary>The backup named <paramref name="name"/> as it is, or with <see langword="null"/> the newest one that verifies.</summary>
    public static RestoreTarget Backup(string? name) => new(name, isPoint: false, time: null);

    /// <summary>The newest state seen at or before <paramref name="time"/>; with <see langword="null"/>, the newest provable point.</summary>
    public static RestoreTarget Point(DateTimeOffset? time) => new(null, isPoint: true, time);
}
