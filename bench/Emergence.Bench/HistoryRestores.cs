using System.Globalization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.DependencyInjection;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>
/// Restores to random points of the synthesized week, taking turns with plain restores of the newest backup; then the
/// breakdown of the slowest points, the plan step apart, the page-cache-fair comparison, and the checks' share.
/// </summary>
internal static class HistoryRestores
{
    /// <summary>Restores to random points of the week ending at <paramref name="end"/>, taking turns with plain restores; then where the time goes, and the checks' share.</summary>
    public static void Run(ServiceProvider provider, DatabaseLocation location, DateTimeOffset end, int days, Arguments options, Action<string> line, CultureInfo inv)
    {
        var store = new ReplicationStore(location.BackupDirectory);
        var files = store.Generations(location.DatabasePath).SelectMany(g => store.Files(g.Id)).ToList();
        var windows = Timeline.Windows(location.BackupDirectory, location.DatabasePath);
        var restorer = provider.GetRequiredService<RestoreService>();
        var (plainRuns, pointRuns) = TakeTurns(restorer, location, store, end, days, Math.Max(30, options.Runs * 10));
        var plain = new Stats([.. plainRuns.Select(run => run.Seconds)]);
        Summarize(files, windows, days, options, plain, pointRuns, line, inv);
        Slowest(plainRuns, pointRuns, line, inv);
        HistoryPlanning.Run(location, store, end, line, inv);
        CacheFairRestores.Run(restorer, location, store, end, days, Math.Max(12, options.Runs * 4), line, inv);
        CliRestores.Run(location, store, end, days, Math.Max(12, options.Runs * 4), line, inv);
        Checks(location, plain, line, inv);
    }

    /// <summary>A random point of the <paramref name="days"/> before <paramref name="end"/> (short of the window's oldest edge).</summary>
    public static DateTimeOffset RandomPoint(Random random, DateTimeOffset end, int days) =>
        end.AddSeconds(-random.NextDouble() * TimeSpan.FromDays(days - 0.05).TotalSeconds);

    /// <summary><paramref name="points"/> restores to random points (the last to the newest), with a plain restore before every third.</summary>
    private static (List<TimedRestore> Plain, List<TimedRestore> ToPoint) TakeTurns(RestoreService restorer, DatabaseLocation location, ReplicationStore store,
        DateTimeOffset end, int days, int points)
    {
        var random = new Random(7);
        var (plain, toPoint) = (new List<TimedRestore>(), new List<TimedRestore>());
        for (var run = 0; run < points; run++)
        {
            if (run % 3 == 0)
            {
                plain.Add(TimedRestore.Plain(restorer, location, PageCache.Shares(location)));
            }

            // Any point of the window: a random time in it (the last one the newest).
            DateTimeOffset? target = run == points - 1 ? null : RandomPoint(random, end, days);
            toPoint.Add(TimedRestore.ToPoint(restorer, location, store, target, PageCache.Shares(location)));
        }

        return (plain, toPoint);
    }

    /// <summary>The history on the volume by level, the window, and the restores to a point against the plain ones.</summary>
    private static void Summarize(List<HistoryFile> files, IReadOnlyList<Timeline.Window> windows, int days, Arguments options, Stats plain, List<TimedRestore> pointRuns,
        Action<string> line, CultureInfo inv)
    {
        var byLevel = files.GroupBy(f => f.Level).OrderBy(g => g.Key)
            .Select(g => string.Create(inv, $"level {g.Key}: {g.Count()} files, {g.Sum(f => new FileInfo(f.Path).Length) >> 10} KiB"));
        var (p, t) = (plain, new Stats([.. pointRuns.Select(run => run.Seconds)]));
        var r = new Stats([.. pointRuns.Select(run => (double)(1 + (run.Result.Replay?.Segments ?? 0)))]);
        line(string.Create(inv, $"A {options.SizeMib} MiB database with {days} days of history (a commit every simulated second; bases: a backup a day and one an hour for the last five hours, as the defaults keep): {string.Join("; ", byLevel)}; window {windows.Min(w => w.From):yyyy-MM-dd HH:mm} .. {windows.Max(w => w.To):yyyy-MM-dd HH:mm}."));
        line(string.Create(inv, $"Restore to {t.Samples.Count} random points of the window (the last the newest): {t.Describe()} against a plain restore of the newest backup {p.Describe()} ({p.Samples.Count} runs, taking turns): {t.Median / p.Median:0.00}× at the median, {t.Percentile(90) / p.Median:0.00}× at p90, {t.Max / p.Median:0.00}× at worst. Files read per restore (the base and the history files applied): median {r.Median:0}, worst {r.Max:0}."));
        line("");
    }

    /// <summary>Where the time goes: the five slowest points, the median one and the three slowest plain restores, phase by phase.</summary>
    private static void Slowest(List<TimedRestore> plainRuns, List<TimedRestore> pointRuns, Action<string> line, CultureInfo inv)
    {
        line("Where the time goes (seconds by phase; `cached`: the share of the base backup in the page cache before the restore), the five slowest points, the median one and the plain restores:");
        line("");
        line(TimedRestore.HeaderRow);
        line(TimedRestore.RuleRow);
        var ordered = pointRuns.OrderByDescending(x => x.Seconds).ToList();
        foreach (var slow in ordered.Take(5).Append(ordered[ordered.Count / 2]))
        {
            line(slow.Row(inv));
        }

        foreach (var plainRun in plainRuns.OrderByDescending(x => x.Seconds).Take(3))
        {
            line(plainRun.Row(inv));
        }

        line("");
    }

    /// <summary>The checks a point restore runs on its result beside a plain restore's: where its extra time goes.</summary>
    private static void Checks(DatabaseLocation location, Stats plain, Action<string> line, CultureInfo inv)
    {
        var (full, quick, proof) = (new List<double>(), new List<double>(), new List<double>());
        for (var i = 0; i < 3; i++)
        {
            full.Add(TimeIt(() => Sql(location.DatabasePath, "PRAGMA integrity_check(1)", readOnly: true)));
            quick.Add(TimeIt(() => Sql(location.DatabasePath, "PRAGMA quick_check(1)", readOnly: true)));
            proof.Add(TimeIt(() => PageHashes.OfFile(location.DatabasePath)));
        }

        var (f, q, h) = (new Stats(full), new Stats(quick), new Stats(proof));
        line(string.Create(inv, $"On the restored database: integrity_check (the drill's check after its replay; a restore's replay is proven by content instead) {f.Describe()}, quick_check (a plain restore's check) {q.Describe()}, hashing every page of it (the content proof's read of a whole result, where it cannot start from the copy's checksum measured beside its SHA-256) {h.Describe()}: integrity_check is {f.Median / plain.Median:0.00}× a plain restore by itself."));
        line("");
    }
}
