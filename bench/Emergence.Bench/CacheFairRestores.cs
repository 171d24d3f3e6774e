using System.Globalization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;

namespace Emergence.Bench;

/// <summary>Restores to a point against plain restores with the page cache made fair to both: both warm, then both cold.</summary>
internal static class CacheFairRestores
{
    /// <summary>
    /// The comparison made fair both ways for the page cache: each restore run twice in a row and the second timed (its
    /// base backup warm, as the newest backup a plain restore reads is), then with every backup evicted from the cache
    /// before each (both read from the disk).
    /// </summary>
    public static void Run(RestoreService restorer, DatabaseLocation location, ReplicationStore store, DateTimeOffset end, int days, int points, Action<string> line, CultureInfo inv)
    {
        var random = new Random(11);
        var targets = Enumerable.Range(0, points).Select(_ => (DateTimeOffset?)HistoryRestores.RandomPoint(random, end, days)).ToList();
        foreach (var cold in new[] { false, true })
        {
            var (plain, point) = (new List<double>(), new List<double>());
            foreach (var target in targets)
            {
                plain.Add(PageCache.Fair(location, cold, () => TimedRestore.Plain(restorer, location, null).Seconds));
                point.Add(PageCache.Fair(location, cold, () => TimedRestore.ToPoint(restorer, location, store, target, null).Seconds));
            }

            var (p, t) = (new Stats(plain), new Stats(point));
            line(string.Create(inv, $"{(cold ? "Cold (every backup evicted from the page cache before each restore)" : "Warm (each restore run twice, the second timed)")}: restore to {point.Count} random points {t.Describe()} against a plain restore {p.Describe()}: {t.Median / p.Median:0.00}× at the median, {t.Percentile(90) / p.Median:0.00}× at p90, {t.Max / p.Median:0.00}× at worst."));
        }

        line("");
    }
}
