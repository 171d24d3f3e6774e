using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;

namespace Emergence.Bench;

/// <summary>
/// Restores as an operator runs them: <c>emergence-db restore --to TIME</c> and a plain <c>emergence-db restore NAME</c>
/// of the newest backup, each in a fresh process (so the history's records are read by code the runtime has only just
/// compiled), taking turns one for one, with the page cache made fair to both.
/// </summary>
internal static class CliRestores
{
    /// <summary>
    /// Restores to <paramref name="points"/> random points of the window and to the newest, each followed by a plain
    /// restore: first warm (each run twice and the second timed, its base in the page cache as the newest backup is),
    /// then cold (every backup evicted from the page cache before each, as after a restart).
    /// </summary>
    public static void Run(DatabaseLocation location, ReplicationStore store, DateTimeOffset end, int days, int points, Action<string> line, CultureInfo inv)
    {
        var cli = Build();
        var newest = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, DateTimeOffset.UtcNow).RestoreCandidates[0].Name;
        var random = new Random(13);
        var targets = Enumerable.Range(0, points).Select(_ => (DateTimeOffset?)HistoryRestores.RandomPoint(random, end, days)).Append(null).ToList();
        foreach (var cold in new[] { false, true })
        {
            var (plain, toPoint) = (new List<double>(), new List<double>());
            foreach (var target in targets)
            {
                string[] point = target is { } time ? ["--to", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", inv)] : ["--latest"];
                toPoint.Add(PageCache.Fair(location, cold, () => Restore(cli, location, store, point)));
                plain.Add(PageCache.Fair(location, cold, () => Restore(cli, location, store, [newest])));
            }

            var (p, t) = (new Stats(plain), new Stats(toPoint));
            line(string.Create(inv, $"In a fresh process (`emergence-db restore`, taking turns one for one), {(cold ? "cold (every backup evicted from the page cache before each)" : "warm (each run twice, the second timed)")}: restore to {t.Samples.Count} points (the last `--latest`) {t.Describe()} against a plain restore of the newest backup {p.Describe()} ({p.Samples.Count} runs): {t.Median / p.Median:0.00}× at the median, {t.Percentile(90) / p.Median:0.00}× at p90, {t.Max / p.Median:0.00}× at worst ({t.Percentile(90) / p.Percentile(90):0.00}× p90 to p90, {t.Max / p.Max:0.00}× worst to worst)."));
        }

        line("");
    }

    /// <summary>Builds the command line tool in Release and returns its assembly.</summary>
    private static string Build()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Functions.sln")))
        {
            root = root.Parent;
        }

        var project = Path.Combine(root?.FullName ?? throw new InvalidOperationException("The bench runs from a build inside the repository."), "src", "Emergence.Cli");
        Shell.Time("dotnet", "build", "-c", "Release", "--nologo", "-v", "quiet", project);
        return Path.Combine(project, "bin", "Release", "net10.0", "emergence-db.dll");
    }

    /// <summary>
    /// One <c>emergence-db restore … --force</c>, timed, with every generation reopened first; then deletes what it set
    /// aside (a copy of the database each time).
    /// </summary>
    private static double Restore(string cli, DatabaseLocation location, ReplicationStore store, string[] what)
    {
        BenchTools.ReopenGenerations(store, location.DatabasePath);

        string[] arguments = [cli, "restore", .. what, "--force", "--database", location.DatabasePath, "--backup-dir", location.BackupDirectory];
        var seconds = Shell.Time("dotnet", arguments);
        var quarantine = Path.Combine(location.BackupDirectory, RestoreService.QuarantineDirectoryName);
        if (Directory.Exists(quarantine))
        {
            Directory.Delete(quarantine, recursive: true);
        }

        return seconds;
    }
}
