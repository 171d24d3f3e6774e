using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>The plan step of a restore to a point, timed apart from the restore.</summary>
internal static class HistoryPlanning
{
    /// <summary>
    /// The plan step of a restore to a point, apart: listing the backups, reading every record of the history and its
    /// run (as listings and audits do), and reading the run coarsest first up to a point (as a restore does), for points
    /// 3 days and 30 minutes before the end and the newest; then planning.
    /// </summary>
    public static void Run(DatabaseLocation location, ReplicationStore store, DateTimeOffset end, Action<string> line, CultureInfo inv)
    {
        var (scan, files, history, plans) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var (days, minutes, latest) = (new List<double>(), new List<double>(), new List<double>());
        var (read, daysRead, minutesRead, latestRead) = (0, 0, 0, 0);
        for (var i = 0; i < 3; i++)
        {
            BackupInventory? inventory = null;
            scan.Add(TimeIt(() => inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, DateTimeOffset.UtcNow)));
            files.Add(TimeIt(() => read = store.Generations(location.DatabasePath).Sum(g => store.Files(g.Id).Count)));
            IReadOnlyList<History>? histories = null;
            history.Add(TimeIt(() => histories = History.ReadAll(location.BackupDirectory, location.DatabasePath)));
            days.Add(TimeIt(() => daysRead = Records(History.ReadUntil(location.BackupDirectory, location.DatabasePath, end.AddDays(-3)))));
            minutes.Add(TimeIt(() => minutesRead = Records(History.ReadUntil(location.BackupDirectory, location.DatabasePath, end.AddMinutes(-30)))));
            latest.Add(TimeIt(() => latestRead = Records(History.ReadUntil(location.BackupDirectory, location.DatabasePath, null))));
            plans.Add(TimeIt(() => Timeline.PlansFor(inventory!.RestoreCandidates, b => b.Manifest!, b => b.TakenAt, histories!, end.AddDays(-3))));
        }

        line(string.Create(inv, $"The plan step apart: listing the backups {new Stats(scan).Describe()}; reading every record of the history ({read}) {new Stats(files).Describe()}; History.ReadAll (every record and the run) {new Stats(history).Describe()}; History.ReadUntil a point 3 days before the end (run and level files beside it: {daysRead} records) {new Stats(days).Describe()}, 30 minutes before it ({minutesRead}) {new Stats(minutes).Describe()}, the newest point ({latestRead}) {new Stats(latest).Describe()}; planning a point 3 days back {new Stats(plans).Describe()}."));
        line("");

        static int Records(IReadOnlyList<History> histories) => histories.Sum(h => h.Run.Count + h.Jumps.Count);
    }
}
