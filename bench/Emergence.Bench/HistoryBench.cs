using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Emergence.Bench;

/// <summary>
/// The history's levels, measured in one run: a week of history behind a large database, synthesized with a stepped
/// clock (a commit every simulated second, polled every ten seconds for the week and every second for its last hour,
/// merged into levels and pruned as the replicator does), with the bases the default schedule and retention keep
/// (a backup a day, and every hour for the last five). Then restores to random points of the window against a plain
/// restore of the newest backup, taking turns, with the files each read; the history's bytes on the volume; and a
/// minute of a real-time writer at 500 commits a second, for the bytes each level takes per payload byte.
/// </summary>
internal static class HistoryBench
{
    private const int PayloadBytes = 200;

    private static readonly string[] FincoreOptions = ["--bytes", "--noheadings", "--raw", "--output", "RES,SIZE,FILE"];


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
            Rate(options, services, line, inv);
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
            Restores(again, at, Timeline.Windows(at.BackupDirectory, at.DatabasePath).Max(w => w.To), Days, options, line, inv);
            return;
        }

        var fresh = BenchWorkspace.WithDatabase(services, work, options.SizeMib);
        using var provider = fresh.Provider;
        var location = fresh.Location;
        Execute(provider.GetRequiredService<SqliteConnectionFactory>(), location.DatabasePath, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");

        // The week ends an hour before now, so restores (which order backups by the real clock) see none in the future.
        var end = DateTimeOffset.UtcNow.AddHours(-1);
        var building = Stopwatch.StartNew();
        Simulate(provider, location, end, Days);
        Console.WriteLine(string.Create(inv, $"a week of history written in {building.Elapsed.TotalSeconds:0} s"));
        Restores(provider, location, end, Days, options, line, inv);
    }

    /// <summary>
    /// <paramref name="days"/> of history up to <paramref name="end"/> with a stepped clock: a commit every simulated second,
    /// polled every ten (every second in the last <see cref="ReplicationOptions.EveryCommit"/>), a backup a day and one an
    /// hour for the last five hours, merged into levels every ten minutes and pruned every hour, as the replicator does.
    /// </summary>
    private static void Simulate(ServiceProvider provider, DatabaseLocation location, DateTimeOffset end, int days)
    {
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        var clock = new SteppedClock(end.AddDays(-days));
        var settings = new ReplicationOptions();
        var backups = new BackupService(connections, provider.GetRequiredService<IOptions<PersistenceOptions>>(), provider.GetRequiredService<BackupActivity>(),
            provider.GetRequiredService<IntegrityRecord>(), clock, NullLogger<BackupService>.Instance);
        var store = new ReplicationStore(location.BackupDirectory);
        using (var writer = connections.OpenExisting(location.DatabasePath))
        using (var command = writer.CreateCommand())
        using (var session = ReplicationSession.OpenAsync(location, connections, backups, clock, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult())
        {
            command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({PayloadBytes}))";
            var (lastCompaction, lastPrune, lastBackup) = (clock.Now, clock.Now, clock.Now);
            while (clock.Now < end)
            {
                var step = end - clock.Now > settings.EveryCommit ? 10 : 1;
                for (var i = 0; i < step; i++)
                {
                    command.ExecuteNonQuery();
                }

                clock.Now += TimeSpan.FromSeconds(step);
                session.Poll();
                var backupEvery = end - clock.Now < TimeSpan.FromHours(5) ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
                if (clock.Now - lastBackup >= backupEvery)
                {
                    backups.CreateAsync(location, BackupReason.Scheduled, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
                    lastBackup = clock.Now;
                }

                if (clock.Now - lastCompaction >= TimeSpan.FromMinutes(10))
                {
                    HistoryCompactor.Compact(store, session.Generation, closed: false, NullLogger.Instance);
                    lastCompaction = clock.Now;
                }

                if (clock.Now - lastPrune >= TimeSpan.FromHours(1))
                {
                    ReplicationRetention.Prune(location, clock.Now, session.Generation.Id, settings, NullLogger.Instance);
                    lastPrune = clock.Now;
                }
            }

            HistoryCompactor.Compact(store, session.Generation, closed: false, NullLogger.Instance);
            ReplicationRetention.Prune(location, clock.Now, session.Generation.Id, settings, NullLogger.Instance);
        }
    }

    /// <summary>Restores to random points of the week ending at <paramref name="end"/>, taking turns with plain restores; then where the time goes, and the checks' share.</summary>
    private static void Restores(ServiceProvider provider, DatabaseLocation location, DateTimeOffset end, int days, Arguments options, Action<string> line, CultureInfo inv)
    {
        var store = new ReplicationStore(location.BackupDirectory);
        var files = store.Generations(location.DatabasePath).SelectMany(g => store.Files(g.Id)).ToList();
        var byLevel = files.GroupBy(f => f.Level).OrderBy(g => g.Key)
            .Select(g => string.Create(inv, $"level {g.Key}: {g.Count()} files, {g.Sum(f => new FileInfo(f.Path).Length) >> 10} KiB"));
        var windows = Timeline.Windows(location.BackupDirectory, location.DatabasePath);
        var restorer = provider.GetRequiredService<RestoreService>();
        var random = new Random(7);
        var (plain, toPoint, read) = (new List<double>(), new List<double>(), new List<double>());
        var (plainRuns, pointRuns) = (new List<Timed>(), new List<Timed>());
        var points = Math.Max(30, options.Runs * 10);
        for (var run = 0; run < points; run++)
        {
            if (run % 3 == 0)
            {
                var timed = PlainRestore(restorer, location, Cached(location));
                plainRuns.Add(timed);
                plain.Add(timed.Seconds);
            }

            // Any point of the window: a random time in it (the last one the newest).
            DateTimeOffset? target = run == points - 1 ? null : end.AddSeconds(-random.NextDouble() * TimeSpan.FromDays(days - 0.05).TotalSeconds);
            var point = PointRestore(restorer, location, store, target, Cached(location));
            pointRuns.Add(point);
            toPoint.Add(point.Seconds);
            read.Add(1 + (point.Result.Replay?.Segments ?? 0));
        }

        var p = new Stats(plain);
        var t = new Stats(toPoint);
        var r = new Stats(read);
        line(string.Create(inv, $"A {options.SizeMib} MiB database with {days} days of history (a commit every simulated second; bases: a backup a day and one an hour for the last five hours, as the defaults keep): {string.Join("; ", byLevel)}; window {windows.Min(w => w.From):yyyy-MM-dd HH:mm} .. {windows.Max(w => w.To):yyyy-MM-dd HH:mm}."));
        line(string.Create(inv, $"Restore to {toPoint.Count} random points of the window (the last the newest): {t.Describe()} against a plain restore of the newest backup {p.Describe()} ({plain.Count} runs, taking turns): {t.Median / p.Median:0.00}× at the median, {t.Percentile(90) / p.Median:0.00}× at p90, {t.Max / p.Median:0.00}× at worst. Files read per restore (the base and the history files applied): median {r.Median:0}, worst {r.Max:0}."));
        line("");
        line("Where the time goes (seconds by phase; `cached`: the share of the base backup in the page cache before the restore), the five slowest points, the median one and the plain restores:");
        line("");
        line(Timed.HeaderRow);
        line(Timed.RuleRow);
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
        Planning(location, store, end, line, inv);
        Fairly(restorer, location, store, end, days, line, inv);

        // The checks a point restore runs on its result beside a plain restore's: where its extra time goes.
        var (full, quick, proof) = (new List<double>(), new List<double>(), new List<double>());
        for (var i = 0; i < 3; i++)
        {
            full.Add(Time(() => Pragma(location.DatabasePath, "PRAGMA integrity_check(1)")));
            quick.Add(Time(() => Pragma(location.DatabasePath, "PRAGMA quick_check(1)")));
            proof.Add(Time(() => PageHashes.OfFile(location.DatabasePath)));
        }

        var (f, q, h) = (new Stats(full), new Stats(quick), new Stats(proof));
        line(string.Create(inv, $"On the restored database: integrity_check (the drill's check after its replay; a restore's replay is proven by content instead) {f.Describe()}, quick_check (a plain restore's check) {q.Describe()}, the content proof {h.Describe()}: integrity_check is {f.Median / p.Median:0.00}× a plain restore by itself."));
        line("");
    }

    /// <summary>
    /// The plan step of a restore to a point, apart: listing the backups, reading every record of the history and its
    /// run (as listings and a restore to the newest point do), and reading the run only up to a point (as a restore to a
    /// time does), for points 3 days and 30 minutes before the end; then planning.
    /// </summary>
    private static void Planning(DatabaseLocation location, ReplicationStore store, DateTimeOffset end, Action<string> line, CultureInfo inv)
    {
        var (scan, files, history, plans) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var (days, minutes) = (new List<double>(), new List<double>());
        var (read, daysRead, minutesRead) = (0, 0, 0);
        for (var i = 0; i < 3; i++)
        {
            BackupInventory? inventory = null;
            scan.Add(Time(() => inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, DateTimeOffset.UtcNow)));
            files.Add(Time(() => read = store.Generations(location.DatabasePath).Sum(g => store.Files(g.Id).Count)));
            IReadOnlyList<History>? histories = null;
            history.Add(Time(() => histories = History.ReadAll(location.BackupDirectory, location.DatabasePath)));
            days.Add(Time(() => daysRead = Records(History.ReadUntil(location.BackupDirectory, location.DatabasePath, end.AddDays(-3)))));
            minutes.Add(Time(() => minutesRead = Records(History.ReadUntil(location.BackupDirectory, location.DatabasePath, end.AddMinutes(-30)))));
            plans.Add(Time(() => Timeline.PlansFor(inventory!.RestoreCandidates, b => b.Manifest!, b => b.TakenAt, histories!, end.AddDays(-3))));
        }

        line(string.Create(inv, $"The plan step apart: listing the backups {new Stats(scan).Describe()}; reading every record of the history ({read}) {new Stats(files).Describe()}; History.ReadAll (every record and the run) {new Stats(history).Describe()}; History.ReadUntil a point 3 days before the end (run and level files beside it: {daysRead} records) {new Stats(days).Describe()}, 30 minutes before it ({minutesRead}) {new Stats(minutes).Describe()}; planning a point 3 days back {new Stats(plans).Describe()}."));
        line("");

        static int Records(IReadOnlyList<History> histories) => histories.Sum(h => h.Run.Count + h.Jumps.Count);
    }

    /// <summary>
    /// The comparison made fair both ways for the page cache: each restore run twice in a row and the second timed (its
    /// base backup warm, as the newest backup a plain restore reads is), then with every backup evicted from the cache
    /// before each (both read from the disk).
    /// </summary>
    private static void Fairly(RestoreService restorer, DatabaseLocation location, ReplicationStore store, DateTimeOffset end, int days, Action<string> line, CultureInfo inv)
    {
        var random = new Random(11);
        var targets = Enumerable.Range(0, 4).Select(_ => (DateTimeOffset?)end.AddSeconds(-random.NextDouble() * TimeSpan.FromDays(days - 0.05).TotalSeconds)).ToList();
        foreach (var cold in new[] { false, true })
        {
            var (plain, point) = (new List<double>(), new List<double>());
            foreach (var target in targets)
            {
                if (cold)
                {
                    Evict(location);
                }
                else
                {
                    PlainRestore(restorer, location, null);
                }

                plain.Add(PlainRestore(restorer, location, null).Seconds);
                if (cold)
                {
                    Evict(location);
                }
                else
                {
                    PointRestore(restorer, location, store, target, null);
                }

                point.Add(PointRestore(restorer, location, store, target, null).Seconds);
            }

            var (p, t) = (new Stats(plain), new Stats(point));
            line(string.Create(inv, $"{(cold ? "Cold (every backup evicted from the page cache before each restore)" : "Warm (each restore run twice, the second timed)")}: restore to {point.Count} random points {t.Describe()} against a plain restore {p.Describe()}: {t.Median / p.Median:0.00}× at the median, {t.Max / p.Median:0.00}× at worst."));
        }

        line("");
    }

    private static Timed PlainRestore(RestoreService restorer, DatabaseLocation location, IReadOnlyDictionary<string, double>? cached)
    {
        using var held = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
        var phases = new PhaseLog();
        RestoreResult? result = null;
        var seconds = Time(() => result = restorer.Restore(location, held, null, force: true, "bench", phases));
        Unquarantine(result);
        return new Timed(null, seconds, result!, phases.Durations(seconds), cached?.GetValueOrDefault(result!.Backup.Filename));
    }

    private static Timed PointRestore(RestoreService restorer, DatabaseLocation location, ReplicationStore store, DateTimeOffset? target, IReadOnlyDictionary<string, double>? cached)
    {
        foreach (var generation in store.Generations(location.DatabasePath))
        {
            File.Delete(Path.Combine(store.DirectoryOf(generation.Id), ReplicationStore.EndedFileName));
        }

        using var held = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
        var phases = new PhaseLog();
        RestoreResult? result = null;
        var seconds = Time(() => result = restorer.RestoreToTime(location, held, target, force: true, "bench", phases));
        Unquarantine(result);
        return new Timed(target, seconds, result!, phases.Durations(seconds), cached?.GetValueOrDefault(result!.Backup.Filename));
    }

    /// <summary>The share of each backup file in the page cache now (<c>fincore</c>), by file name.</summary>
    private static Dictionary<string, double> Cached(DatabaseLocation location)
    {
        var backups = Directory.GetFiles(location.BackupDirectory, "*.sqlite");
        var info = new ProcessStartInfo("fincore") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in FincoreOptions.Concat(backups))
        {
            info.ArgumentList.Add(argument);
        }

        var shares = new Dictionary<string, double>();
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            foreach (var row in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = row.Split(' ', 3);
                if (fields.Length == 3 && long.TryParse(fields[0], inv(), out var resident) && long.TryParse(fields[1], inv(), out var size) && size > 0)
                {
                    shares[Path.GetFileName(fields[2])] = resident / (double)size;
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No fincore here: the breakdown says nothing of the cache.
        }

        return shares;

        static IFormatProvider inv() => CultureInfo.InvariantCulture;
    }

    /// <summary>Drops every backup's pages from the page cache (<c>dd iflag=nocache</c>: clean pages go, as the kernel allows).</summary>
    private static void Evict(DatabaseLocation location)
    {
        Shell.Time("sync");
        foreach (var backup in Directory.GetFiles(location.BackupDirectory, "*.sqlite"))
        {
            Shell.Time("dd", $"if={backup}", "iflag=nocache", "count=0", "status=none");
        }
    }

    /// <summary>One timed restore: its target (<see langword="null"/>: the newest point, or a plain restore when it replayed nothing), its result and its phases.</summary>
    private sealed record Timed(DateTimeOffset? Target, double Seconds, RestoreResult Result, IReadOnlyDictionary<string, double> Phases, double? Cached)
    {
        private static readonly string[] Columns = ["refuse", "plan", "copy", "checksum", "quick_check", "replay", "content proof", "schema", "swap"];

        public const string HeaderRow = "| restore | s | base (cached) | files by level 0..4 | KiB read / decompressed | pages written (distinct) | replay: check / apply / fsync | refuse | plan | copy | hash+check+fsync | quick_check verdict | replay | content proof | schema | swap |";

        public const string RuleRow = "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

        public string Row(CultureInfo inv)
        {
            var work = Result.Replay?.Work;
            var what = Result.Replay is null ? "plain" : Target is { } t ? t.ToString("MM-dd HH:mm:ss", inv) : "newest";
            var cached = Cached is { } c ? string.Create(inv, $" ({c:P0})") : "";
            var phases = string.Join(" | ", Columns.Select(column => Phases.TryGetValue(column, out var value) ? value.ToString("0.000", inv) : "–"));
            return work is null
                ? string.Create(inv, $"| {what} | {Seconds:0.000} | {Result.Backup.Filename}{cached} | – | – | – | – | {phases} |")
                : string.Create(inv, $"| {what} | {Seconds:0.000} | {Result.Backup.Filename}{cached} | {string.Join(" ", work.FilesByLevel)} | {work.BytesRead >> 10} / {work.BytesDecompressed >> 10} | {work.PagesWritten} ({work.DistinctPages}) | {work.Checking.TotalSeconds:0.000} / {work.Applying.TotalSeconds:0.000} / {work.Syncing.TotalSeconds:0.000} | {phases} |");
        }
    }

    /// <summary>When a restore entered each phase, from its progress reports (the checksum's come from another thread).</summary>
    private sealed class PhaseLog : IProgress<OperationProgress>
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly List<(string Phase, double At)> _entered = [];

        public void Report(OperationProgress value)
        {
            lock (_entered)
            {
                if (_entered.Count == 0 || _entered[^1].Phase != value.Phase)
                {
                    _entered.Add((value.Phase, Stopwatch.GetElapsedTime(_started).TotalSeconds));
                }
            }
        }

        /// <summary>Seconds in each phase, to the next phase or the end (<paramref name="total"/>); <c>refuse</c> is the time before the first.</summary>
        public Dictionary<string, double> Durations(double total)
        {
            lock (_entered)
            {
                var durations = new Dictionary<string, double> { ["refuse"] = _entered.Count > 0 ? _entered[0].At : total };
                for (var i = 0; i < _entered.Count; i++)
                {
                    var until = i + 1 < _entered.Count ? _entered[i + 1].At : total;
                    durations[_entered[i].Phase] = durations.GetValueOrDefault(_entered[i].Phase) + (until - _entered[i].At);
                }

                return durations;
            }
        }
    }

    /// <summary>A minute of a real-time writer at 500 commits a second of 200-byte rows, replicated and merged: bytes per payload byte at each level.</summary>
    private static void Rate(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        const int CommitsPerSecond = 500;
        var seconds = Math.Max(60, options.WriterSeconds * 5);
        var (provider, location, _) = WriterLoad.Fresh(Path.Combine(options.Directory, "history-rate"), services);
        using var owned = provider;
        var store = new ReplicationStore(location.BackupDirectory);
        var (generation, committed) = WriteReplicated(provider, location, CommitsPerSecond, seconds, line, inv);
        HistoryCompactor.Compact(store, generation, closed: true, NullLogger.Instance);
        var payload = committed * (double)PayloadBytes;
        var sizes = store.Files(generation.Id).GroupBy(f => f.Level).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Sum(f => new FileInfo(f.Path).Length) / payload);
        var perDay = CommitsPerSecond * PayloadBytes * 86_400.0;
        line(string.Create(inv, $"A real-time writer at {CommitsPerSecond} commits/s of {PayloadBytes}-byte random rows for {seconds} s ({committed} commits): history bytes per payload byte by level: {string.Join(", ", sizes.Select(s => $"level {s.Key} {s.Value:0.00}"))}."));
        Codecs(store, generation, line, inv);

        // What the window keeps: the hour level for the whole window, the minute and 10-minute levels for a day, the
        // 10-second level and the segments for an hour; each level holds each changed page once per period.
        var kept = (7 * sizes.GetValueOrDefault(4)) + sizes.GetValueOrDefault(2) + sizes.GetValueOrDefault(3) + ((sizes.GetValueOrDefault(0) + sizes.GetValueOrDefault(1)) / 24);
        line(string.Create(inv, $"At that rate a day is {perDay / (1L << 30):0.0} GiB of payload. A 7-day window keeps the hour level for 7 days, the minute and 10-minute levels for a day and the 10-second level and segments for an hour: about {kept * perDay / (1L << 30):0} GiB by this run's ratios, against a database that grows by {7 * perDay / (1L << 30):0} GiB in the week: {kept * perDay / (7 * perDay):0.00}× what the week adds (an estimate from a minute of writing: the levels above a minute hold each page once per period, so an append-only table costs about what it adds)."));
        line("");
    }

    /// <summary>
    /// A writer at <paramref name="commitsPerSecond"/> commits a second of random rows for <paramref name="seconds"/>
    /// seconds, under a replicator session polling every second; returns the session's generation and the commits made.
    /// </summary>
    private static (GenerationManifest Generation, long Committed) WriteReplicated(ServiceProvider provider, DatabaseLocation location, int commitsPerSecond, int seconds,
        Action<string> line, CultureInfo inv)
    {
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        var committed = 0L;
        using var session = ReplicationSession.OpenAsync(location, connections, provider.GetRequiredService<BackupService>(), TimeProvider.System, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var writer = Task.Run(() =>
        {
            using var connection = connections.OpenExisting(location.DatabasePath);
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({PayloadBytes}))";
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                var due = TimeSpan.FromSeconds(committed / (double)commitsPerSecond);
                if (due > clock.Elapsed)
                {
                    Thread.Sleep(due - clock.Elapsed);
                }

                command.ExecuteNonQuery();
                committed++;
            }
        });
        var busy = 0;
        while (!writer.IsCompleted)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                session.Poll();
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == 5)
            {
                busy++; // the checkpoint could not take the write lock within the busy timeout; the next poll tries again, as the replicator does
            }

            var rest = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                Thread.Sleep(rest);
            }
        }

        session.Poll();
        if (busy > 0)
        {
            line(string.Create(inv, $"(the replicator's checkpoint found the write lock busy past its timeout in {busy} polls, and tried again at the next)"));
        }

        return (session.Generation, committed);
    }

    /// <summary>The codecs side by side on the pages this run's level files hold (what the history compresses): ratio and speed.</summary>
    private static void Codecs(ReplicationStore store, GenerationManifest generation, Action<string> line, CultureInfo inv)
    {
        using var pages = new MemoryStream();
        foreach (var file in store.Levels(generation.Id).Where(f => f.Level == 1))
        {
            using var zstd = new ZstdSharp.DecompressionStream(File.OpenRead(file.Path));
            zstd.CopyTo(pages);
        }

        var data = pages.ToArray();
        var results = new List<string>();
        void Measure(string name, Func<byte[], byte[]> compress)
        {
            compress(data);
            var started = Stopwatch.GetTimestamp();
            var packed = compress(data);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            results.Add(string.Create(inv, $"{name} {data.Length / (double)packed.Length:0.00}× at {data.Length / seconds / (1 << 20):0} MiB/s"));
        }

        foreach (var level in new[] { 1, 3 })
        {
            Measure($"zstd {level}", b =>
            {
                using var compressor = new ZstdSharp.Compressor(level);
                return compressor.Wrap(b).ToArray();
            });
        }

        Measure("Brotli 1", b =>
        {
            var output = new byte[System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(b.Length)];
            System.IO.Compression.BrotliEncoder.TryCompress(b, output, out var written, 1, 22);
            return output[..written];
        });
        Measure("Deflate fastest", b =>
        {
            using var output = new MemoryStream();
            using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                deflate.Write(b);
            }

            return output.ToArray();
        });
        line(string.Create(inv, $"The codecs on those {data.Length >> 10} KiB of level-1 pages (random rows, so little to find): {string.Join("; ", results)}."));
    }

    /// <summary>Deletes what a restore set aside (a copy of the database each time): forty of them fill a disk at 1 GiB.</summary>
    private static void Unquarantine(RestoreResult? result)
    {
        if (result?.QuarantineDirectory is { } directory && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Pragma(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteScalar();
    }

    private static double Time(Action action)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static void Execute(SqliteConnectionFactory connections, string database, string sql)
    {
        using var connection = connections.OpenExisting(database);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
