using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Bench;

/// <summary>
/// WAL replication, measured side by side in one run: a steady writer's commit latency with the replicator
/// off and on (trials taking turns), the replication lag and the log's high-water mark while it runs,
/// segment bytes per committed byte; and a restore to the newest point of a large database with an hour
/// of one-second segments, against a plain restore of the same backup.
/// </summary>
internal static class ReplicationBench
{
    public static void Run(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        line("## WAL replication");
        line("");
        SteadyWriterBench.Run(options, services, line, inv);
        FullSpeed(options, services, line, inv);
        RestoreToTime(options, services, line, inv);
    }

    /// <summary>
    /// The writer at <see cref="Arguments.WriterRate"/> (0: as fast as it can commit), with the replicator off and on in
    /// trials taking turns: commits a second, commit latency, the replication lag, the log's high-water mark, and every
    /// error the writer saw (<c>SQLITE_BUSY</c> counted apart).
    /// </summary>
    private static void FullSpeed(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        var (provider, location, connections) = WriterLoad.Fresh(Path.Combine(options.Directory, "replication-full-speed"), services);
        using var owned = provider;
        var checkpointBytes = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Emergence.Persistence.Configuration.PersistenceOptions>>().Value.Replication.CheckpointBytes;
        var seconds = Math.Max(4, options.WriterSeconds);
        var trials = Math.Max(1, options.WriterTrials);
        var sides = new[] { new Side(), new Side() };
        var lag = new List<double>();
        for (var trial = 0; trial < 2 * trials; trial++)
        {
            FullSpeedTrial(provider, location, connections, replicate: trial % 2 == 1, sides[trial % 2], lag, TimeSpan.FromSeconds(seconds), options.WriterRate);
        }

        var rate = options.WriterRate == 0 ? "as fast as it can commit" : string.Create(inv, $"{options.WriterRate} commits a second");
        var interval = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Emergence.Persistence.Configuration.PersistenceOptions>>().Value.Replication.Interval;
        line(string.Create(inv, $"Writer {rate} (`--writer-rate {options.WriterRate}`; one-row commits of {WriterLoad.PayloadBytes} bytes, synchronous=FULL) for {seconds} s per trial, {2 * trials} trials taking turns (off, on, …); checkpoint threshold {checkpointBytes >> 10} KiB, poll interval {interval.TotalSeconds:0.#} s."));
        line("");
        FullSpeedTable(sides[0], sides[1], new Stats(lag), seconds * trials, line, inv);
    }

    /// <summary>One trial of the writer at its rate, from an emptied log, with the replicator on or off, sampling the lag and the log's size.</summary>
    private static void FullSpeedTrial(ServiceProvider provider, DatabaseLocation location, SqliteConnectionFactory connections, bool replicate, Side side, List<double> lag, TimeSpan duration, int rate)
    {
        using (var truncate = connections.OpenExisting(location.DatabasePath))
        {
            // Each trial starts from an empty log, so that its high-water mark is its own.
            WriterLoad.Execute(truncate, "PRAGMA wal_checkpoint(TRUNCATE)");
        }

        using var cancel = new CancellationTokenSource();
        var activity = provider.GetRequiredService<ReplicationActivity>();
        Task? replicator = null;
        if (replicate)
        {
            replicator = Task.Factory.StartNew(() => provider.GetRequiredService<Replicator>().RunAsync(location, cancel.Token), TaskCreationOptions.LongRunning).Unwrap();
            WriterLoad.WaitForFirstPoll(activity, location, DateTimeOffset.UtcNow);
        }

        using var sampling = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!sampling.IsCancellationRequested)
            {
                if (replicate && activity.StateFor(location.BackupDirectory) is { CaughtUpAt: { } caughtUp })
                {
                    lag.Add((DateTimeOffset.UtcNow - caughtUp).TotalSeconds);
                }

                var wal = new FileInfo(location.DatabasePath + "-wal");
                side.HighWater = Math.Max(side.HighWater, wal.Exists ? wal.Length : 0);
                Thread.Sleep(20);
            }
        });
        sampler.Start();
        var (committed, busy, errors) = WriterLoad.Write(connections, location.DatabasePath, duration, side.Latencies, rate);
        side.Commits += committed;
        side.Busy += busy;
        side.Errors += errors;
        if (replicate)
        {
            Thread.Sleep(2000); // the last commits reach a segment and the log a checkpoint before stopping
        }

        sampling.Cancel();
        sampler.Join();
        if (replicate)
        {
            cancel.Cancel();
            replicator!.GetAwaiter().GetResult();
        }
    }

    private static void FullSpeedTable(Side off, Side on, Stats lag, int secondsPerSide, Action<string> line, CultureInfo inv)
    {
        var offStats = new Stats(off.Latencies);
        var onStats = new Stats(on.Latencies);
        line("| figure | replication off | replication on | on/off |");
        line("|---|---|---|---|");
        line(string.Create(inv, $"| commits per second | {off.Commits / (double)secondsPerSide:0} | {on.Commits / (double)secondsPerSide:0} | {on.Commits / (double)Math.Max(1, off.Commits):0.00}× |"));
        line(string.Create(inv, $"| commit p50 | {offStats.Median:0.000} ms | {onStats.Median:0.000} ms | {onStats.Median / offStats.Median:0.00}× |"));
        line(string.Create(inv, $"| commit p99 | {offStats.Percentile(99):0.000} ms | {onStats.Percentile(99):0.000} ms | {onStats.Percentile(99) / offStats.Percentile(99):0.00}× |"));
        line(string.Create(inv, $"| commit max | {offStats.Max:0.0} ms | {onStats.Max:0.0} ms | |"));
        line(string.Create(inv, $"| `-wal` high-water | {off.HighWater / 1048576.0:0.0} MiB | {on.HighWater / 1048576.0:0.0} MiB | |"));
        line(string.Create(inv, $"| lag p50 / p99 / max | | {lag.Median:0.00} / {lag.Percentile(99):0.00} / {lag.Max:0.00} s | |"));
        line(string.Create(inv, $"| `SQLITE_BUSY` / other errors seen by the writer | {off.Busy} / {off.Errors} | {on.Busy} / {on.Errors} | |"));
        line("");
    }

    /// <summary>One side's figures over its trials.</summary>
    private sealed class Side
    {
        public List<double> Latencies { get; } = [];

        public long Commits { get; set; }

        public long Busy { get; set; }

        public long Errors { get; set; }

        public long HighWater { get; set; }
    }

    private static void RestoreToTime(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        const int Polls = 3600;
        const int CommitsPerPoll = 5;
        var fresh = BenchWorkspace.WithDatabase(services, Path.Combine(options.Directory, $"replication-replay-{options.SizeMib}"), options.SizeMib);
        using var provider = fresh.Provider;
        var location = fresh.Location;
        WriteOneSecondSegments(provider, location, Polls, CommitsPerPoll, inv);
        var restorer = provider.GetRequiredService<RestoreService>();
        var plain = new List<double>();
        var toTime = new List<double>();
        var proof = new List<double>();
        var store = new ReplicationStore(location.BackupDirectory);
        for (var run = 0; run < Math.Max(3, options.Runs); run++)
        {
            using var held = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
            plain.Add(Time(() => restorer.Restore(location, held, null, force: true, "bench")));

            // Each run restores the same history: the mark a restore leaves on the generation it replaced is removed.
            BenchTools.ReopenGenerations(store, location.DatabasePath);

            toTime.Add(Time(() => restorer.RestoreToTime(location, held, null, force: true, "bench")));

            // Hashing every page of the result: the content proof's read where it cannot start from the copy's measured checksum.
            proof.Add(Time(() => PageHashes.OfFile(location.DatabasePath)));
        }

        var segments = new ReplicationStore(location.BackupDirectory).Generations(location.DatabasePath).Sum(g => new ReplicationStore(location.BackupDirectory).Segments(g.Id).Count);
        var p = new Stats(plain);
        var t = new Stats(toTime);
        line(string.Create(inv, $"Restore of a {options.SizeMib} MiB database: plain (the backup) {p.Describe()}; to the newest point (the same backup, then {segments} one-second segments of {CommitsPerPoll} commits each, then the content proof) {t.Describe()}: {t.Median / p.Median:0.00}× ({plain.Count} runs each, taking turns)."));
        var h = new Stats(proof);
        line(string.Create(inv, $"Hashing every page of the result (the content proof's read of a whole result, where it cannot start from the copy's checksum measured beside its SHA-256) {h.Describe()}: {h.Median / t.Median:P0} of the restore to the newest point, {h.Median / p.Median:0.00}× a plain restore."));
        line(string.Create(inv, $"The replicator's share per commit: {PageHashNanoseconds():0} ns to hash a 4 KiB page (XXH3, median of 5 rounds of 100,000 pages), for each page a commit writes."));
        line("");
    }

    /// <summary>
    /// The rows table on the fresh database, then <paramref name="polls"/> seconds of <paramref name="commitsPerPoll"/>
    /// commits each under a replicator session on a stepped clock, polled once a simulated second: a segment a poll.
    /// </summary>
    private static void WriteOneSecondSegments(ServiceProvider provider, DatabaseLocation location, int polls, int commitsPerPoll, CultureInfo inv)
    {
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        using (var create = connections.OpenExisting(location.DatabasePath))
        {
            WriterLoad.Execute(create, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
        }

        var clock = new SteppedClock(DateTimeOffset.UtcNow);
        var building = Stopwatch.StartNew();
        using (var writer = connections.OpenExisting(location.DatabasePath))
        using (var session = ReplicationSession.OpenAsync(location, connections, provider.GetRequiredService<BackupService>(), clock, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult())
        {
            for (var poll = 0; poll < polls; poll++)
            {
                for (var i = 0; i < commitsPerPoll; i++)
                {
                    WriterLoad.Execute(writer, $"INSERT INTO rows (pad) VALUES (randomblob({WriterLoad.PayloadBytes}))");
                }

                clock.Now += TimeSpan.FromSeconds(1);
                session.Poll();
            }
        }

        Console.WriteLine(string.Create(inv, $"an hour of segments written in {building.Elapsed.TotalSeconds:0} s"));
    }

    /// <summary>The time to hash one 4 KiB page as the replicator does for each copied frame.</summary>
    private static double PageHashNanoseconds()
    {
        var page = new byte[4096];
        Random.Shared.NextBytes(page);
        var rounds = new List<double>();
        var sink = 0UL;
        for (var round = 0; round < 5; round++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0u; i < 100_000; i++)
            {
                sink ^= PageHashes.Hash(i + 2, page);
            }

            rounds.Add(Stopwatch.GetElapsedTime(started).TotalNanoseconds / 100_000);
        }

        GC.KeepAlive(sink);
        return rounds.Order().ElementAt(rounds.Count / 2);
    }

    private static double Time(Action action)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
