using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Emergence.Bench;

/// <summary>
/// A steady writer's commit latency with the replicator off and on, and with a reference disturbance, in trials taking
/// turns; the replication lag and the log's high-water mark while it runs; segment bytes per committed byte; which
/// of the replicator's spans the slow commits started in, which ran during a garbage-collection pause, and how their
/// time divided between the disk or a lock, waiting for a processor and running on one.
/// </summary>
internal static class SteadyWriterBench
{
    /// <summary>The steady writer's rate: a busy app's, well below what this disk takes with synchronous=FULL (about 3000 one-row commits a second).</summary>
    public const int CommitsPerSecond = 500;

    /// <summary>
    /// The reference disturbance: a second of the log's frames, what a copy that keeps them as they are must add to this
    /// disk, with nothing of ours in it (segments compress them now, and write far less).
    /// </summary>
    private const int ReferenceBytes = CommitsPerSecond * (4096 + 24);

    /// <summary>
    /// The other reference disturbance's file: about what a second of this writer's commits makes of a segment (measured:
    /// 7765 KiB of segments for 12,009 commits, 0.65 KiB a commit), placed once a second as the replicator places one.
    /// </summary>
    private const int FileReferenceBytes = 320 << 10;

    public static void Run(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        var (provider, location, connections) = WriterLoad.Fresh(Path.Combine(options.Directory, "replication-writer"), services);
        using var owned = provider;
        var sides = new Sides();
        var trials = Math.Max(2, options.WriterTrials) * 3;
        var seconds = Math.Max(4, options.WriterSeconds);
        using var spans = new ReplicatorSpans();
        using var pauses = new GcPauses();
        using var threads = new ThreadTimes();
        var warmup = new Sides();
        for (var trial = 0; trial < options.WriterWarmup * 3; trial++)
        {
            Trial(trial % 3, options.WriterReference, provider, location, connections, TimeSpan.FromSeconds(seconds), warmup, null, spans);
        }

        spans.Clear();

        for (var trial = 0; trial < trials; trial++)
        {
            Trial(trial % 3, options.WriterReference, provider, location, connections, TimeSpan.FromSeconds(seconds), sides, threads, spans);
        }

        Report(sides, seconds, trials, options.WriterReference, provider, location, line, inv);
        var slow = new Stats(sides.Off).Percentile(99);
        spans.Report(sides.OnStarts, sides.On, slow, line, inv);
        line(string.Create(inv, $"The runtime's garbage-collection pauses in the same trials (every managed thread stopped, the writer's too), and the commits that ran during one, slower than the p99 with replication off ({slow:0.00} ms):"));
        line("");
        line("| side | pauses | paused | commits during a pause | of them slow | slow among the other commits |");
        line("|---|---|---|---|---|---|");
        line(pauses.Describe("replication off", sides.OffTrials, sides.OffStarts, sides.Off, slow, inv));
        line(pauses.Describe("replication on", sides.OnTrials, sides.OnStarts, sides.On, slow, inv));
        line("");
        if (sides.OffSplits.Count > 0)
        {
            line(string.Create(inv, $"Where the slow commits' time went (slower than the p99 with replication off, {slow:0.00} ms; the writer thread's own counters, `/proc/thread-self/schedstat`): blocked is neither on a processor nor waiting for one (the disk under SQLite's `fsync`, a lock); each commit counted by its largest part:"));
            line("");
            line("| side | slow commits | mostly blocked | mostly waiting for a processor | mostly on a processor | mean: total = blocked + waiting + on a processor |");
            line("|---|---|---|---|---|---|");
            line(CommitTimes.Describe("replication off", sides.OffSplits, slow, inv));
            line(CommitTimes.Describe("replication on", sides.OnSplits, slow, inv));
            line(CommitTimes.Describe("reference disturbance", sides.ReferenceSplits, slow, inv));
            line("");
        }

        line(string.Create(inv, $"The runtime's compiler (`JitInfo`): methods compiled and time compiling while the writer committed, each trial in order{(options.WriterWarmup > 0 ? string.Create(inv, $", after {options.WriterWarmup} rounds of trials not counted (their trials with replication on: {Compiled(warmup.OnJit)})") : "")}. Replication off: {Compiled(sides.OffJit)}. On: {Compiled(sides.OnJit)}. Reference: {Compiled(sides.ReferenceJit)}."));
        line("");
        var perSide = seconds * trials / 3.0;
        line(string.Create(inv, $"The process's threads while the writer committed (`/proc/self/task/*/schedstat`, read every {ThreadTimes.Interval.TotalMilliseconds:0} ms and at each trial's start and end), per second of each side: time on a processor, and time runnable but waiting for one, busiest first. Two processors are 2000 ms/s; the writer is the thread that waits in `fsync` most of its time."));
        line("");
        foreach (var row in threads.Describe([("off", perSide), ("on", perSide), ("reference", perSide)], inv))
        {
            line(row);
        }

        line("");
    }

    /// <summary>What the trials of each kind measured.</summary>
    private sealed class Sides
    {
        public List<double> Off { get; } = [];

        public List<double> On { get; } = [];

        public List<long> OnStarts { get; } = [];

        public List<long> OffStarts { get; } = [];

        public List<(long Start, long End)> OffTrials { get; } = [];

        public List<(long Start, long End)> OnTrials { get; } = [];

        public List<double> Reference { get; } = [];

        public List<CommitTimes.Split> OffSplits { get; } = [];

        public List<CommitTimes.Split> OnSplits { get; } = [];

        public List<CommitTimes.Split> ReferenceSplits { get; } = [];

        public List<double> Lag { get; } = [];

        public List<(long Methods, TimeSpan Took)> OffJit { get; } = [];

        public List<(long Methods, TimeSpan Took)> OnJit { get; } = [];

        public List<(long Methods, TimeSpan Took)> ReferenceJit { get; } = [];

        public long HighWater { get; set; }

        public long CommittedOn { get; set; }
    }

    /// <summary>One trial: 0 replication off, 1 on, 2 off with the reference disturbance (<paramref name="reference"/>: dd or files).</summary>
    private static void Trial(int kind, string reference, ServiceProvider provider, Persistence.Database.DatabaseLocation location, Persistence.Database.SqliteConnectionFactory connections, TimeSpan duration, Sides sides, ThreadTimes? threads, ReplicatorSpans spans)
    {
        using var cancel = new CancellationTokenSource();
        var helper = kind switch
        {
            1 => StartReplicator(provider, location, sides, spans, cancel.Token),
            2 when reference == "files" => StartFileDisturbance(Path.Combine(location.DatabaseDirectory, "..", "disturbance-files"), cancel.Token),
            2 => StartDisturbance(Path.Combine(location.DatabaseDirectory, "..", "disturbance"), cancel.Token),
            _ => null,
        };
        var (latencies, starts, windows, splits) = kind switch
        {
            1 => (sides.On, sides.OnStarts, sides.OnTrials, sides.OnSplits),
            2 => (sides.Reference, null, null, sides.ReferenceSplits),
            _ => (sides.Off, sides.OffStarts, sides.OffTrials, sides.OffSplits),
        };
        threads?.Begin(kind);
        var (methods, compiling) = (JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime());
        var began = Stopwatch.GetTimestamp();
        var (committed, busy, errors) = WriterLoad.Write(connections, location.DatabasePath, duration, latencies, CommitsPerSecond, starts, splits);
        (kind switch { 1 => sides.OnJit, 2 => sides.ReferenceJit, _ => sides.OffJit }).Add((JitInfo.GetCompiledMethodCount() - methods, JitInfo.GetCompilationTime() - compiling));
        threads?.Begin(-1);
        windows?.Add((began, Stopwatch.GetTimestamp()));
        if (busy + errors > 0)
        {
            throw new InvalidOperationException($"the steady writer saw {busy} SQLITE_BUSY and {errors} other errors");
        }

        if (kind == 1)
        {
            sides.CommittedOn += committed;
            Thread.Sleep(2000); // let the last commits reach a segment before stopping
        }

        cancel.Cancel();
        helper?.Invoke();
    }

    /// <summary>Each trial's methods compiled and milliseconds compiling, in order: "12 (3 ms), 4 (1 ms), …".</summary>
    private static string Compiled(List<(long Methods, TimeSpan Took)> trials) =>
        trials.Count == 0 ? "none" : string.Join(", ", trials.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Methods} ({t.Took.TotalMilliseconds:0} ms)")));

    /// <summary>
    /// Starts the replicator and a sampler of its lag and the log's size; returns what waits for both to stop. The writer
    /// starts once the replicator's start-up work is done: its first poll (a new generation's snapshot: each trial with
    /// replication on follows trials whose checkpoints it did not see) and the first merge pass, which closes the earlier
    /// generations' last periods as well as merging the current one's. A replicator that keeps running does that once a
    /// start; left in, it was every one of these trials' only merge pass.
    /// </summary>
    private static Action StartReplicator(ServiceProvider provider, Persistence.Database.DatabaseLocation location, Sides sides, ReplicatorSpans spans, CancellationToken cancel)
    {
        var activity = provider.GetRequiredService<ReplicationActivity>();
        var merged = spans.Ended(PersistenceActivities.Compaction);
        var replicator = Task.Factory.StartNew(() => provider.GetRequiredService<Replicator>().RunAsync(location, cancel), TaskCreationOptions.LongRunning).Unwrap();
        WriterLoad.WaitForFirstPoll(activity, location, DateTimeOffset.UtcNow);
        WriterLoad.WaitUntil(() => spans.Ended(PersistenceActivities.Compaction) > merged, "the replicator's first merge pass did not end after its first poll");

        var sampler = new Thread(() =>
        {
            while (!cancel.IsCancellationRequested)
            {
                if (activity.StateFor(location.BackupDirectory) is { CaughtUpAt: { } caughtUp })
                {
                    sides.Lag.Add((DateTimeOffset.UtcNow - caughtUp).TotalSeconds);
                }

                var wal = new FileInfo(location.DatabasePath + "-wal");
                sides.HighWater = Math.Max(sides.HighWater, wal.Exists ? wal.Length : 0);
                Thread.Sleep(50);
            }
        });
        sampler.Start();
        return () =>
        {
            replicator.GetAwaiter().GetResult();
            sampler.Join();
        };
    }

    /// <summary>Once a second, <c>dd</c> writes and fsyncs as many bytes as a second of the log's frames (a frame per commit).</summary>
    private static Action StartDisturbance(string target, CancellationToken cancel)
    {
        var disturbance = new Thread(() =>
        {
            while (!cancel.IsCancellationRequested)
            {
                var took = Shell.Time("dd", "if=/dev/zero", $"of={target}", $"bs={ReferenceBytes}", "count=1", "conv=fsync");
                Thread.Sleep(TimeSpan.FromSeconds(Math.Max(0, 1 - took)));
            }
        });
        disturbance.Start();
        return disturbance.Join;
    }

    /// <summary>
    /// Once a second, a file of <see cref="FileReferenceBytes"/> and its record placed as the replicator places a segment
    /// (<see cref="Durable.PlaceWithRecord"/>: the file written and fsynced, the record written and fsynced, both renamed,
    /// the directory fsynced), with none of its reading, compressing or checkpointing; the files are deleted after the trial.
    /// </summary>
    private static Action StartFileDisturbance(string directory, CancellationToken cancel)
    {
        Directory.CreateDirectory(directory);
        var content = new byte[FileReferenceBytes];
        Random.Shared.NextBytes(content);
        var record = new byte[300];
        var disturbance = new Thread(() =>
        {
            for (var n = 0; !cancel.IsCancellationRequested; n++)
            {
                var began = Stopwatch.GetTimestamp();
                var path = Path.Combine(directory, n.ToString("D8", CultureInfo.InvariantCulture) + ".segment");
                var temp = path + Durable.TempSuffix;
                File.WriteAllBytes(temp, content);
                Durable.FsyncFile(temp);
                Durable.PlaceWithRecord(temp, path, path + ".json", record);
                var left = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(began);
                cancel.WaitHandle.WaitOne(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
        });
        disturbance.Start();
        return () =>
        {
            disturbance.Join();
            Directory.Delete(directory, recursive: true);
        };
    }

    private static void Report(Sides sides, int seconds, int trials, string referenceKind, ServiceProvider provider, Persistence.Database.DatabaseLocation location, Action<string> line, CultureInfo inv)
    {
        var store = new ReplicationStore(location.BackupDirectory);
        var segmentBytes = store.Generations(location.DatabasePath).SelectMany(g => store.Segments(g.Id)).Sum(s => s.Manifest?.Size ?? 0);
        var off = new Stats(sides.Off);
        var on = new Stats(sides.On);
        var reference = new Stats(sides.Reference);
        var lag = new Stats(sides.Lag);
        var perSide = seconds * trials / 3.0;
        line(string.Create(inv, $"Steady writer: {CommitsPerSecond} one-row commits a second ({WriterLoad.PayloadBytes}-byte payload, synchronous=FULL) for {seconds} s per trial, {trials} trials taking turns (off, on, reference, …), {sides.Off.Count} commits off, {sides.On.Count} on, {sides.Reference.Count} with the reference disturbance (replication off, {(referenceKind == "files" ? string.Create(inv, $"a file of {FileReferenceBytes >> 10} KiB, about a second's segment, and its record placed as the replicator places a segment, with three fsyncs") : string.Create(inv, $"`dd` writing and fsyncing {ReferenceBytes >> 10} KiB, a second of the log's frames"))}, once a second)."));
        line("");
        line("| figure | replication off | replication on | reference disturbance | on/off | reference/off | on/reference |");
        line("|---|---|---|---|---|---|---|");
        line(string.Create(inv, $"| commit p50 | {off.Median:0.00} ms | {on.Median:0.00} ms | {reference.Median:0.00} ms | {on.Median / off.Median:0.00}× | {reference.Median / off.Median:0.00}× | {on.Median / reference.Median:0.00}× |"));
        line(string.Create(inv, $"| commit p99 | {off.Percentile(99):0.00} ms | {on.Percentile(99):0.00} ms | {reference.Percentile(99):0.00} ms | {on.Percentile(99) / off.Percentile(99):0.00}× | {reference.Percentile(99) / off.Percentile(99):0.00}× | {on.Percentile(99) / reference.Percentile(99):0.00}× |"));
        line(string.Create(inv, $"| commits per second | {sides.Off.Count / perSide:0} | {sides.On.Count / perSide:0} | {sides.Reference.Count / perSide:0} | | | |"));
        line("");
        var checkpointBytes = provider.GetRequiredService<IOptions<PersistenceOptions>>().Value.Replication.CheckpointBytes;
        line(string.Create(inv, $"Replication lag (now minus the time up to which every commit is in a durable segment, sampled every 50 ms): p50 {lag.Median:0.00} s, p99 {lag.Percentile(99):0.00} s, max {lag.Max:0.00} s. WAL high-water mark {sides.HighWater >> 10} KiB (checkpoint at {checkpointBytes >> 10} KiB). Segment bytes per committed payload byte: {segmentBytes / (double)(sides.CommittedOn * WriterLoad.PayloadBytes):0.0} ({segmentBytes >> 10} KiB of segments for {sides.CommittedOn} commits: a page and a frame header per page a commit touches, compressed, each version of a page found in the one before)."));
        line("");
    }
}
