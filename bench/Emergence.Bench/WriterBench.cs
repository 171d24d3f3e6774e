using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Microsoft.Data.Sqlite;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>A writer committing small transactions while backups and <c>dd</c> copies of the same file take turns beside it.</summary>
internal static class WriterBench
{
    public static void Run(Arguments options, DatabaseLocation location, BackupService backups, Action<string> line)
    {
        // A backup runs (with the delete a rotation does after it), then the machine stays quiet for as long
        // as it took; then the physical reference for the same work, `dd conv=fsync` of the database file and
        // the delete of that copy, then quiet again; and so on. Each commit is tagged with what was running
        // when it began. Interleaving at the scale of one backup keeps the shared machine's drift out of the
        // comparison; one trial's p99 is still decided by a handful of slow commits, so trials are listed.
        var inv = CultureInfo.InvariantCulture;
        line("## A writer committing small transactions");
        line("");
        line(string.Create(inv, $"Each trial ({2 * options.WriterSeconds} s, after one unreported warm-up) alternates a backup and then `dd conv=fsync` of the same file (each followed by the delete of what it wrote, as rotation does), each followed by as long again of quiet. Slow commits: over twice the trial's quiet p99, by what was running when they began."));
        line("");
        line("| trial | backups / dd copies | commits quiet / backup / dd | p50 quiet / backup / dd | p99 quiet / backup / dd | max quiet / backup / dd | errors | p99 ratio backup / dd | slow commits: copy / hash / check / delete · dd / delete |");
        line("|---|---|---|---|---|---|---|---|---|");
        var backupRatios = new List<double>();
        var ddRatios = new List<double>();
        var pooled = new WriterResult();
        long walMax = 0;

        // One unreported trial first: the JIT's tiered recompilation of the code both loops run (measured
        // with `perf sched`: the tier-1 compiler thread held the CPU in most of the writer's longest waits
        // for it in a cold first trial) belongs to the process's start, not to backups.
        Writer(location, backups, TimeSpan.FromSeconds(options.WriterSeconds), () => { });
        for (var trial = 1; trial <= options.WriterTrials; trial++)
        {
            var result = Writer(location, backups, TimeSpan.FromSeconds(2 * options.WriterSeconds), () => walMax = Math.Max(walMax, new FileInfo(location.DatabasePath + "-wal") is { Exists: true } wal ? wal.Length : 0));
            pooled.Add(result);
            var quiet = result.Latencies(WriterPhase.None);
            var backup = result.Latencies(WriterPhases.Backup);
            var dd = result.Latencies(WriterPhases.Raw);
            backupRatios.Add(backup.Percentile(99) / quiet.Percentile(99));
            ddRatios.Add(dd.Percentile(99) / quiet.Percentile(99));

            // Where the slow commits fall: those above twice the quiet p99, by what was running when they began.
            var slowLimit = 2 * quiet.Percentile(99);
            string Slow(params WriterPhase[] phases) => string.Join(" / ", phases.Select(p => result.Latencies(p).Samples.Count(ms => ms > slowLimit)));
            string Three(Func<Stats, double> figure, string format) => string.Join(" / ", new[] { quiet, backup, dd }.Select(stats => figure(stats).ToString(format, inv)));
            line(string.Create(inv, $"| {trial} | {result.Backups} / {result.RawCopies} | {Three(x => x.Samples.Count, "0")} | {Three(x => x.Percentile(50), "0.00")} ms | {Three(x => x.Percentile(99), "0.00")} ms | {Three(x => x.Max, "0.0")} ms | {result.Errors} | {backupRatios[^1]:0.00}× / {ddRatios[^1]:0.00}× | {Slow(WriterPhases.Backup)} · {Slow(WriterPhases.Raw)} |"));
        }

        line("");
        var pooledQuiet = pooled.Latencies(WriterPhase.None).Percentile(99);
        var pooledBackup = pooled.Latencies(WriterPhases.Backup).Percentile(99) / pooledQuiet;
        var pooledDd = pooled.Latencies(WriterPhases.Raw).Percentile(99) / pooledQuiet;
        line(string.Create(inv, $"p99 ratio to the quiet p99: during a backup, median of the trials {new Stats(backupRatios).Median:0.00}×, all trials' commits pooled {pooledBackup:0.00}×; during `dd conv=fsync` of the same file and its delete, {new Stats(ddRatios).Median:0.00}× and {pooledDd:0.00}×. Errors: {pooled.Errors}. Largest WAL seen: {walMax >> 20} MiB."));
        line("");
    }

    /// <summary>One trial: commits for <paramref name="duration"/>, each tagged with what was running beside it when it began.</summary>
    private static WriterResult Writer(DatabaseLocation location, BackupService backups, TimeSpan duration, Action sample)
    {
        using var stop = new CancellationTokenSource(duration);
        var phase = (int)WriterPhase.None;
        var phases = new PhaseTracker(p => InterlockedMax(ref phase, (int)p));
        var result = new WriterResult();
        var controller = Task.Run(() => Alternate(location, backups, phases, p => Volatile.Write(ref phase, (int)p), result, stop.Token));
        using var connection = new SqliteConnectionFactory().OpenExisting(location.DatabasePath);
        var random = new Random(7);
        while (!stop.IsCancellationRequested)
        {
            var current = (WriterPhase)Volatile.Read(ref phase);
            var watch = Stopwatch.StartNew();
            try
            {
                using var transaction = connection.BeginTransaction();
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO items (name, body, payload, created) VALUES ('w', 'writer', randomblob(100), '2025')";
                command.ExecuteNonQuery();
                transaction.Commit();
                result.Record(current, watch.Elapsed.TotalMilliseconds);
            }
            catch (SqliteException)
            {
                result.Errors++;
            }

            sample();
            Thread.Sleep(random.Next(2));
        }

        controller.GetAwaiter().GetResult();
        return result;
    }

    /// <summary>
    /// Beside the writer until <paramref name="stop"/>: a backup (and the delete of what it wrote), then a <c>dd</c> copy of
    /// the database (and its delete), taking turns, each followed by as long again of quiet; <paramref name="enter"/> says
    /// what is running.
    /// </summary>
    private static void Alternate(DatabaseLocation location, BackupService backups, PhaseTracker phases, Action<WriterPhase> enter, WriterResult result, CancellationToken stop)
    {
        var rawCopy = Path.Combine(location.BackupDirectory, "dd.copy");
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            var watch = Stopwatch.StartNew();

            // Neither is cancelled by the deadline: once started, each runs to the end.
            if (round % 2 == 0)
            {
                enter(WriterPhase.Copy);
                var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1), phases, CancellationToken.None).GetAwaiter().GetResult();
                enter(WriterPhase.Delete);
                Discard(manifest);
                result.Backups++;
            }
            else
            {
                // Another process reads the live file here, which is harmless: only this process's own
                // handles on it matter to SQLite's locks.
                enter(WriterPhase.RawCopy);
                RawCopy(location.DatabasePath, rawCopy);
                enter(WriterPhase.RawDelete);
                File.Delete(rawCopy);
                result.RawCopies++;
            }

            enter(WriterPhase.None);
            stop.WaitHandle.WaitOne(watch.Elapsed);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var before && before != seen)
        {
            seen = before;
        }
    }
}
