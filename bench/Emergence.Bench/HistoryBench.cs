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

        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        using var provider = services(Path.Combine(work, "data", "database.sqlite"), "none");
        var location = provider.GetRequiredService<DatabaseLocator>().Resolve();
        Console.Write($"generating {options.SizeMib} MiB… ");
        BenchDatabase.Create(location.DatabasePath, (long)options.SizeMib << 20, new Progress<double>(_ => Console.Write('.')));
        Console.WriteLine();
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        Execute(connections, location.DatabasePath, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");

        // The week ends an hour before now, so restores (which order backups by the real clock) see none in the future.
        var end = DateTimeOffset.UtcNow.AddHours(-1);
        var clock = new SteppedClock(end.AddDays(-Days));
        var settings = new ReplicationOptions();
        var backups = new BackupService(connections, provider.GetRequiredService<IOptions<PersistenceOptions>>(), provider.GetRequiredService<BackupActivity>(),
            provider.GetRequiredService<IntegrityRecord>(), clock, NullLogger<BackupService>.Instance);
        var store = new ReplicationStore(location.BackupDirectory);
        var building = Stopwatch.StartNew();
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

        Console.WriteLine(string.Create(inv, $"a week of history written in {building.Elapsed.TotalSeconds:0} s"));
        Restores(provider, location, end, Days, options, line, inv);
    }

    /// <summary>Restores to random points of the week ending at <paramref name="end"/>, taking turns with plain restores; then the checks' share.</summary>
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
        var points = Math.Max(30, options.Runs * 10);
        for (var run = 0; run < points; run++)
        {
            using var held = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
            if (run % 3 == 0)
            {
                RestoreResult? replaced = null;
                plain.Add(Time(() => replaced = restorer.Restore(location, held, null, force: true, "bench")));
                Unquarantine(replaced);
            }

            foreach (var generation in store.Generations(location.DatabasePath))
            {
                File.Delete(Path.Combine(store.DirectoryOf(generation.Id), ReplicationStore.EndedFileName));
            }

            // Any point of the window: a random time in it (the last one the newest).
            DateTimeOffset? target = run == points - 1 ? null : end.AddSeconds(-random.NextDouble() * TimeSpan.FromDays(days - 0.05).TotalSeconds);
            RestoreResult? result = null;
            toPoint.Add(Time(() => result = restorer.RestoreToTime(location, held, target, force: true, "bench")));
            read.Add(1 + (result!.Replay?.Segments ?? 0));
            Unquarantine(result);
        }

        var p = new Stats(plain);
        var t = new Stats(toPoint);
        var r = new Stats(read);
        line(string.Create(inv, $"A {options.SizeMib} MiB database with {days} days of history (a commit every simulated second; bases: a backup a day and one an hour for the last five hours, as the defaults keep): {string.Join("; ", byLevel)}; window {windows.Min(w => w.From):yyyy-MM-dd HH:mm} .. {windows.Max(w => w.To):yyyy-MM-dd HH:mm}."));
        line(string.Create(inv, $"Restore to {toPoint.Count} random points of the window (the last the newest): {t.Describe()} against a plain restore of the newest backup {p.Describe()} ({plain.Count} runs, taking turns): {t.Median / p.Median:0.00}× at the median, {t.Percentile(90) / p.Median:0.00}× at p90, {t.Max / p.Median:0.00}× at worst. Files read per restore (the base and the history files applied): median {r.Median:0}, worst {r.Max:0}."));

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

    /// <summary>A minute of a real-time writer at 500 commits a second of 200-byte rows, replicated and merged: bytes per payload byte at each level.</summary>
    private static void Rate(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        const int CommitsPerSecond = 500;
        var seconds = Math.Max(60, options.WriterSeconds * 5);
        var work = Path.Combine(options.Directory, "history-rate");
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        using var provider = services(Path.Combine(work, "data", "database.sqlite"), "none");
        var location = provider.GetRequiredService<DatabaseLocator>().Resolve();
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        Directory.CreateDirectory(location.DatabaseDirectory);
        using (var create = connections.OpenOrCreate(location.DatabasePath))
        {
            using var command = create.CreateCommand();
            command.CommandText = "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)";
            command.ExecuteNonQuery();
        }

        var store = new ReplicationStore(location.BackupDirectory);
        GenerationManifest generation;
        var committed = 0L;
        using (var session = ReplicationSession.OpenAsync(location, connections, provider.GetRequiredService<BackupService>(), TimeProvider.System, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult())
        {
            generation = session.Generation;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            var writer = Task.Run(() =>
            {
                using var connection = connections.OpenExisting(location.DatabasePath);
                using var command = connection.CreateCommand();
                command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({PayloadBytes}))";
                var clock = Stopwatch.StartNew();
                while (!stop.IsCancellationRequested)
                {
                    var due = TimeSpan.FromSeconds(committed / (double)CommitsPerSecond);
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
        }

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
