namespace Emergence.Persistence.Health;

/// <summary>Whether the newest backup is too old: a pure function of its time, the time now and the schedule's interval.</summary>
public static class BackupStaleness
{
    /// <summary>How many schedule intervals may pass before the newest backup counts as stale.</summary>
    public const int AllowedIntervals = 2;

    /// <summary>
    /// Whether a backup taken at <paramref name="latestUtc"/> is stale at <paramref name="nowUtc"/>: older
    /// than <see cref="AllowedIntervals"/> times <paramref name="interval"/>. No backup at all is stale.
    /// </summary>
    public static bool IsStale(DateTimeOffset? latestUtc, DateTimeOffset nowUtc, TimeSpan interval) =>
        latestUtc is not { } latest || nowUtc - latest > interval * AllowedIntervals;
}
