using Emergence.Persistence.Configuration;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The history's levels. Level 0 is the segments, one per poll with new commits: every replicated commit a point of its
/// own. Each level above merges the closed files of the level below into one file per period of its span (by the times
/// the commits were seen, which never go back within a generation): the last version of each page the period's commits
/// changed, compressed, with the content checksums before and after. Periods nest, so every boundary of a level is one of
/// the level below, and a restore crosses long stretches of history with a few coarse files and reaches its point with
/// fine ones. How long each level is kept: the finest points stay for <see cref="ReplicationOptions.EveryCommit"/>, minute
/// points for a day, hour points for the restore window. There is no day level: the backups the default retention keeps
/// (one a day for a week) are bases at most a day apart, and a level that held each page once more for the whole window
/// would double the history's size for a busy table.
/// </summary>
public static class HistoryLevels
{
    /// <summary>One level.</summary>
    /// <param name="Number">1 and up.</param>
    /// <param name="Span">The period each of its files covers.</param>
    /// <param name="Name">How the docs and the listing name its points' spacing.</param>
    public sealed record Level(int Number, TimeSpan Span, string Name);

    /// <summary>How long minute points are kept (at most the restore window).</summary>
    public static readonly TimeSpan MinutePoints = TimeSpan.FromDays(1);

    /// <summary>The levels above the segments, finest first.</summary>
    public static readonly IReadOnlyList<Level> All =
    [
        new(1, TimeSpan.FromSeconds(10), "10 seconds"),
        new(2, TimeSpan.FromMinutes(1), "1 minute"),
        new(3, TimeSpan.FromMinutes(10), "10 minutes"),
        new(4, TimeSpan.FromHours(1), "1 hour"),
    ];

    /// <summary>
    /// The finest level copied off the volume. The 10-second level stays on it: off the volume every segment is already one
    /// request, and its files (360 an hour under constant writes) would take a busy hour past 3,700 requests; a restore
    /// from the container to a point of the last <see cref="ReplicationOptions.EveryCommit"/> reads the minute files and up to
    /// a minute of segments instead, in parallel.
    /// </summary>
    public const int FinestOffVolume = 2;

    /// <summary>The highest level.</summary>
    public static int Top => All[^1].Number;

    /// <summary>The period of <paramref name="level"/> a commit seen at <paramref name="at"/> falls in.</summary>
    public static long PeriodOf(int level, DateTimeOffset at) => at.UtcTicks / All[level - 1].Span.Ticks;

    /// <summary>How long a file of <paramref name="level"/> (0: a segment) is kept after its last commit, when a coarser file covers it.</summary>
    public static TimeSpan KeptFor(int level, ReplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var window = options.RestoreWindow;
        return level switch
        {
            0 or 1 => Min(options.EveryCommit, window),
            2 or 3 => Min(Max(MinutePoints, options.EveryCommit), window),
            _ => window,
        };
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
