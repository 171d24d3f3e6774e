using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>
/// One database size: generated (or reused), then, with the <c>copy</c> section, backups side by side with
/// <c>dd</c>, <c>sqlite3 .backup</c>, <c>VACUUM INTO</c> and <c>BackupDatabase</c>, as ratios to <c>dd</c>.
/// </summary>
internal static class CopyBench
{
    /// <summary>How many more runs the small size gets than the large one.</summary>
    public const int SmallRunFactor = 3;

    /// <summary>
    /// Prepares the database of <paramref name="sizeMib"/> MiB and measures it; at the full size, <paramref name="rest"/>
    /// then measures the sections that need a database (given the full backup's median time when this one measured it).
    /// </summary>
    public static SizeResult Run(Arguments options, int sizeMib, bool full, Action<string> line, Action<ServiceProvider, DatabaseLocation, BackupService, double?> rest)
    {
        var work = Path.Combine(options.Directory, $"size-{sizeMib}");
        var reuse = options.Reuse && File.Exists(Path.Combine(work, "data", "database.sqlite"));
        if (Directory.Exists(work) && !reuse)
        {
            Directory.Delete(work, recursive: true);
        }

        var services = Services(Path.Combine(work, "data", "database.sqlite"));
        var location = services.GetRequiredService<DatabaseLocator>().Resolve();
        var database = location.DatabasePath;
        if (!reuse)
        {
            Console.Write($"generating {sizeMib} MiB… ");
            BenchDatabase.Create(database, (long)sizeMib << 20, new Progress<double>(_ => Console.Write('.')));
        }

        // The database as SQLite wrote it sits in the page cache in 4 KiB pages; one that was evicted and read
        // back sits in larger ones, and SQLite's backup step reads it about a quarter faster (0.45–0.48 ns/B
        // against 0.58–0.65 for the same 100 MiB). Which state a generated or reused database is in depends on
        // the machine's history, so both sizes start from the same one: dropped from the cache and read back.
        Shell.Time("dd", $"if={database}", "iflag=nocache", "count=0", "status=none");
        Shell.Time("dd", $"if={database}", "of=/dev/null", "bs=4M", "status=none");
        var bytes = new FileInfo(database).Length;
        Console.WriteLine($"database: {bytes >> 20} MiB");
        var backups = services.GetRequiredService<BackupService>();
        double? fullBackup = null;
        if (options.Sections.Contains("copy"))
        {
            var samples = Measure(services, location, backups, Path.Combine(work, "copy.out"), full ? options.Runs : SmallRunFactor * options.Runs, full);
            Print(samples, sizeMib, bytes, full, line);
            fullBackup = new Stats(samples.Ours).Median;
        }

        if (full)
        {
            rest(services, location, backups, fullBackup);
        }

        services.Dispose();
        return new SizeResult(sizeMib, database, bytes);
    }

    /// <summary>Each method's times in seconds, run after run.</summary>
    private sealed record Samples(List<double> Dd, List<double> SqliteBackup, List<double> Vacuum, List<double> BackupApi, List<double> OursCopy, List<double> Ours, List<double> Restore);

    private static Samples Measure(ServiceProvider services, DatabaseLocation location, BackupService backups, string target, int runs, bool full)
    {
        var inv = CultureInfo.InvariantCulture;
        var database = location.DatabasePath;
        var s = new Samples([], [], [], [], [], [], []);
        for (var run = 0; run < runs; run++)
        {
            // Each method starts with no dirty pages left by the one before (`sync`, untimed), so none pays
            // for another's writeback.
            void Dd()
            {
                // The denominator is the noisiest figure on a shared virtual disk: it is sampled three times
                // per run, spread through it, and its median over all samples is used.
                Settle();
                s.Dd.Add(RawCopy(database, target));
                File.Delete(target);
            }

            Dd();
            MeasureOthers(database, target, s);
            Dd();

            Settle();
            var phases = new PhaseClock();
            var watch = Stopwatch.StartNew();
            var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1), phases).GetAwaiter().GetResult();
            s.Ours.Add(watch.Elapsed.TotalSeconds);
            s.OursCopy.Add(phases.Between("copy", "synced"));
            if (full)
            {
                using var volumeLock = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
                Settle();
                s.Restore.Add(TimeIt(() => services.GetRequiredService<RestoreService>().Restore(location, volumeLock, manifest.Filename, force: true, "benchmark")));
                Directory.Delete(Path.Combine(location.BackupDirectory, RestoreService.QuarantineDirectoryName), recursive: true);
            }

            Discard(manifest);
            Dd();
            Console.WriteLine(string.Create(inv, $"run {run + 1}: dd {s.Dd[^3]:0.00}/{s.Dd[^2]:0.00}/{s.Dd[^1]:0.00} .backup {s.SqliteBackup[^1]:0.00} vacuum {s.Vacuum[^1]:0.00} api {s.BackupApi[^1]:0.00} ours copy {s.OursCopy[^1]:0.00} ours {s.Ours[^1]:0.00}"));
        }

        return s;
    }

    /// <summary>The copies by other means: <c>sqlite3 .backup</c>, <c>VACUUM INTO</c>, <c>BackupDatabase</c> as it comes.</summary>
    private static void MeasureOthers(string database, string target, Samples s)
    {
        Settle();
        s.SqliteBackup.Add(Shell.Time("sqlite3", database, $".backup {target}"));
        File.Delete(target);
        Settle();
        s.Vacuum.Add(TimeIt(() => Sql(database, $"VACUUM INTO '{target}'")));
        File.Delete(target);
        Settle();
        s.BackupApi.Add(TimeIt(() =>
        {
            using var from = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            using var to = new SqliteConnection($"Data Source={target};Pooling=False");
            from.Open();
            to.Open();
            from.BackupDatabase(to);
        }));
        File.Delete(target);
    }

    private static void Print(Samples s, int sizeMib, long bytes, bool full, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        var ddStats = new Stats(s.Dd);
        line(string.Create(inv, $"## {sizeMib} MiB database ({bytes} bytes, WAL mode, indexed table of text and blobs)"));
        line("");
        line("| method | time | ratio to dd |");
        line("|---|---|---|");
        void Row(string name, List<double> samples)
        {
            var stats = new Stats(samples);
            line(string.Create(inv, $"| {name} | {stats.Describe()} | {stats.Median / ddStats.Median:0.00}× |"));
        }

        Row("`dd conv=fsync` (physical limit)", s.Dd);
        Row("`sqlite3 .backup`", s.SqliteBackup);
        Row("`VACUUM INTO` (no fsync)", s.Vacuum);
        Row("`SqliteConnection.BackupDatabase` as-is", s.BackupApi);
        Row("this project: consistent copy (backup step, journal off, fsync)", s.OursCopy);
        Row("this project: full verified backup (copy, fsync, SHA-256, quick_check, rename, manifest)", s.Ours);
        if (full)
        {
            Row("this project: restore (copy + hash, quick_check, quarantine, swap)", s.Restore);
        }

        line("");
    }
}

/// <summary>A database size the run prepared: its size in MiB, its file and its length.</summary>
internal sealed record SizeResult(int Mib, string DatabasePath, long Bytes);
