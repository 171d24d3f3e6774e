using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>
/// The history's levels, measured in one run: a week of history behind a large database, synthesized with a stepped
/// clock (a commit every simulated second, polled every ten seconds for the week and every second for its last hour,
/// merged into levels and pruned as the replicator does), with the bases the default schedule and retention keep
/// (a backup a day, and every hour for the last five). Then restores to random points of the window against a plain
/// restore of the newest backup, taking turns, with the files each read; the history's bytes on the volume; and a
/// minute of a real-time writer at 500 commits a second, for the bytes each level takes per payload byte.
/// </summary>
/// <remarks>
/// The parts, a file each: <see cref="HistoryWeek"/> synthesizes the week, <see cref="HistoryRestores"/> times the
/// restores taking turns and breaks down the slowest, <see cref="HistoryPlanning"/> times the plan step apart,
/// <see cref="CacheFairRestores"/> makes the comparison fair for the page cache, <see cref="CliRestores"/> times the
/// operator's command in fresh processes, and <see cref="HistoryRate"/>
/// measures the real-time writer (with <see cref="HistoryCodecs"/> on the pages it wrote).
/// </remarks>
internal static class HistoryBench
{
    /// <summary>The payload of each row the history's writers commit.</summary>
    public const int PayloadBytes = 200;

    public static void Run(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        line("## History levels");
        line("");
        if (options.Sections.Contains("history"))
        {
            Week(options, services, line, inv);
        }

        if (options.Sections.Contains("history-rate"))
        {
            HistoryRate.Run(options, services, line, inv);
        }
    }

    private static void Week(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        const int Days = 7;
        var work = Path.Combine(options.Directory, $"history-week-{options.SizeMib}");
        var store0 = new ReplicationStore(Path.Combine(work, "data", "backups"));
        if (options.Reuse && Directory.Exists(store0.Root))
        {
            // --reuse true: the week a previous run built, restored again.
            using var again = services(Path.Combine(work, "data", "database.sqlite"), "none");
            var at = again.GetRequiredService<DatabaseLocator>().Resolve();
            HistoryRestores.Run(again, at, Timeline.Windows(at.BackupDirectory, at.DatabasePath).Max(w => w.To), Days, options, line, inv);
            return;
        }

        var fresh = BenchWorkspace.WithDatabase(services, work, options.SizeMib);
        using var provider = fresh.Provider;
        var location = fresh.Location;
        Execute(provider.GetRequiredService<SqliteConnectionFactory>(), location.DatabasePath, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");

        // The week ends an hour before now, so restores (which order backups by the real clock) see none in the future.
        var end = DateTimeOffset.UtcNow.AddHours(-1);
        var building = Stopwatch.StartNew();
        HistoryWeek.Simulate(provider, location, end, Days);
        Console.WriteLine(string.Create(inv, $"a week of history written in {building.Elapsed.TotalSeconds:0} s"));
        HistoryRestores.Run(provider, location, end, Days, options, line, inv);
    }

    private static void Execute(SqliteConnectionFactory connections, string database, string sql)
    {
        using var connection = connections.OpenExisting(database);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
