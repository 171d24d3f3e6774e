using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Emergence.Bench;
using Emergence.Functions.Functions;
using Emergence.Functions.Startup;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Volumes;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Measures backups side by side with dd, sqlite3 .backup, VACUUM INTO and BackupDatabase in one run,
// and prints ratios to dd (the physical limit of a durable copy). Usage:
//   dotnet run -c Release --project bench/Emergence.Bench -- [--size-mib 1024] [--small-mib 100] [--runs 3] [--writer-seconds 12] [--writer-trials 5] [--dir /tmp/emergence-bench] [--out bench/RESULTS.md]
// To look into one figure: [--sections copy,writer,health,compression,offsite,linearity,replication,history,history-rate] [--reuse true] (keep the generated databases) [--writer-rate 0] (the replication section's second writer: commits a second, 0 for full speed).
// How many more runs the small size gets than the large one.
const int SmallRunFactor = 3;
Arguments options;
try
{
    options = Arguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"bench: {ex.Message}");
    return 64;
}

var report = new StringBuilder();
var inv = CultureInfo.InvariantCulture;
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

Directory.CreateDirectory(options.Directory);
Line($"# Backup benchmark");
Line();
Line(string.Create(inv, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, SQLite {SqliteRuntime.Version}, {options.Runs} runs per figure at the large size and {SmallRunFactor * options.Runs} at the small one (a fraction of a second each, where one stall moves a median of three), median (min–max). Ratios are to `dd conv=fsync` measured in the same run (three samples per run, spread through it)."));
Line();

var results = new Dictionary<int, SizeResult>();
foreach (var sizeMib in new[] { options.SmallMib, options.SizeMib }.Distinct())
{
    results[sizeMib] = MeasureSize(sizeMib, full: sizeMib == options.SizeMib);
}

if (options.Sections.Contains("linearity"))
{
    MeasureLinearity(results[options.SmallMib], results[options.SizeMib]);
}

if (options.Sections.Contains("replication"))
{
    ReplicationBench.Run(options, (database, compression) => Services(database, compression), Line);
}

if (options.Sections.Contains("history") || options.Sections.Contains("history-rate"))
{
    HistoryBench.Run(options, (database, compression) => Services(database, compression), Line);
}

File.WriteAllText(options.Output, report.ToString());
Console.WriteLine($"written to {options.Output}");
return 0;

SizeResult MeasureSize(int sizeMib, bool full)
{
    var work = Path.Combine(options.Directory, $"size-{sizeMib}");
    var reuse = options.Reuse && File.Exists(Path.Combine(work, "data", "database.sqlite"));
    if (Directory.Exists(work) && !reuse)
    {
        Directory.Delete(work, recursive: true);
    }

    var services = Services(Path.Combine(work, "data", "database.sqlite"));
    var locator = services.GetRequiredService<DatabaseLocator>();
    var location = locator.Resolve();
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
    if (!options.Sections.Contains("copy"))
    {
        if (full)
        {
            MeasureTheRest(services, location, services.GetRequiredService<BackupService>(), null);
        }

        services.Dispose();
        return new SizeResult(sizeMib, database, bytes);
    }

    var dd = new List<double>();
    var sqliteBackup = new List<double>();
    var vacuum = new List<double>();
    var backupApi = new List<double>();
    var oursCopy = new List<double>();
    var ours = new List<double>();
    var restore = new List<double>();
    var backups = services.GetRequiredService<BackupService>();
    var runs = full ? options.Runs : SmallRunFactor * options.Runs;
    for (var run = 0; run < runs; run++)
    {
        // Each method starts with no dirty pages left by the one before (`sync`, untimed), so none pays
        // for another's writeback.
        var target = Path.Combine(work, "copy.out");
        void Dd()
        {
            // The denominator is the noisiest figure on a shared virtual disk: it is sampled three times
            // per run, spread through it, and its median over all samples is used.
            Settle();
            dd.Add(RawCopy(database, target));
            File.Delete(target);
        }

        Dd();
        Settle();
        sqliteBackup.Add(Shell.Time("sqlite3", database, $".backup {target}"));
        File.Delete(target);
        Settle();
        vacuum.Add(TimeIt(() => Sql(database, $"VACUUM INTO '{target}'")));
        File.Delete(target);
        Settle();
        backupApi.Add(TimeIt(() =>
        {
            using var from = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            using var to = new SqliteConnection($"Data Source={target};Pooling=False");
            from.Open();
            to.Open();
            from.BackupDatabase(to);
        }));
        File.Delete(target);
        Dd();

        Settle();
        var phases = new PhaseClock();
        var watch = Stopwatch.StartNew();
        var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1), phases).GetAwaiter().GetResult();
        ours.Add(watch.Elapsed.TotalSeconds);
        oursCopy.Add(phases.Between("copy", "synced"));
        if (full)
        {
            using var volumeLock = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
            Settle();
            restore.Add(TimeIt(() => services.GetRequiredService<RestoreService>().Restore(location, volumeLock, manifest.Filename, force: true, "benchmark")));
            Directory.Delete(Path.Combine(location.BackupDirectory, RestoreService.QuarantineDirectoryName), recursive: true);
        }

        Discard(manifest);
        Dd();
        Console.WriteLine(string.Create(inv, $"run {run + 1}: dd {dd[^3]:0.00}/{dd[^2]:0.00}/{dd[^1]:0.00} .backup {sqliteBackup[^1]:0.00} vacuum {vacuum[^1]:0.00} api {backupApi[^1]:0.00} ours copy {oursCopy[^1]:0.00} ours {ours[^1]:0.00}"));
    }

    var ddStats = new Stats(dd);
    Line(string.Create(inv, $"## {sizeMib} MiB database ({bytes} bytes, WAL mode, indexed table of text and blobs)"));
    Line();
    Line("| method | time | ratio to dd |");
    Line("|---|---|---|");
    void Row(string name, List<double> samples)
    {
        var stats = new Stats(samples);
        Line(string.Create(inv, $"| {name} | {stats.Describe()} | {stats.Median / ddStats.Median:0.00}× |"));
    }

    Row("`dd conv=fsync` (physical limit)", dd);
    Row("`sqlite3 .backup`", sqliteBackup);
    Row("`VACUUM INTO` (no fsync)", vacuum);
    Row("`SqliteConnection.BackupDatabase` as-is", backupApi);
    Row("this project: consistent copy (backup step, journal off, fsync)", oursCopy);
    Row("this project: full verified backup (copy, fsync, SHA-256, quick_check, rename, manifest)", ours);
    if (full)
    {
        Row("this project: restore (copy + hash, quick_check, quarantine, swap)", restore);
    }

    Line();
    if (full)
    {
        MeasureTheRest(services, location, backups, new Stats(ours).Median);
    }

    services.Dispose();
    return new SizeResult(sizeMib, database, bytes);
}

void MeasureLinearity(SizeResult small, SizeResult large)
{
    // The per-size tables above are measured minutes apart, and this machine drifts by more than the
    // target's 15% in that time. Here both sizes take turns: one large backup, then as many small ones
    // as make up the same bytes, each after `sync`, in every round. Each backup's time is split by its
    // progress reports: before the copy, the copy into the page cache, SHA-256 (beside the fsync),
    // quick_check with rename and manifest, and what follows (rotation).
    var smallPerLarge = (int)Math.Round((double)large.Bytes / small.Bytes);
    using var smallServices = Services(small.DatabasePath);
    using var largeServices = Services(large.DatabasePath);
    string[] columns = ["before the copy", "copy", "SHA-256 (beside the fsync)", "quick_check, rename, manifest", "after (rotation)"];
    var perByte = new Dictionary<SizeResult, List<double[]>> { [small] = [], [large] = [] };
    var roundRatios = new List<double>();

    double[] Backup(SizeResult size, ServiceProvider services)
    {
        var location = services.GetRequiredService<DatabaseLocator>().Resolve();
        Settle();
        var phases = new PhaseClock();
        var manifest = services.GetRequiredService<BackupService>().CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1), phases).GetAwaiter().GetResult();
        var total = phases.Elapsed;
        Discard(manifest);
        double[] seconds = [phases.At("copy"), phases.Between("copy", "checksum"), phases.Between("checksum", "quick_check"), phases.Between("quick_check", "done"), total - phases.At("done")];
        var row = seconds.Select(s => s * 1e9 / size.Bytes).ToArray();
        perByte[size].Add(row);
        return row;
    }

    // One of each first, untimed: the first backup in a process pays for loading and compiling.
    Backup(small, smallServices);
    Backup(large, largeServices);
    perByte[small].Clear();
    perByte[large].Clear();
    for (var round = 0; round < options.Runs; round++)
    {
        var largeNs = Backup(large, largeServices).Sum();
        var smallNs = Enumerable.Range(0, smallPerLarge).Select(_ => Backup(small, smallServices).Sum()).Average();
        roundRatios.Add(smallNs / largeNs);
        Console.WriteLine(string.Create(inv, $"linearity round {round + 1}: {large.Mib} MiB {largeNs:0.00} ns/B, {small.Mib} MiB {smallNs:0.00} ns/B"));
    }

    string Percent(double ratio) => string.Create(inv, $"{100 * (ratio - 1):+0;-0}%");
    Line("## Linearity");
    Line();
    Line(string.Create(inv, $"Full verified backups taking turns: in each of {options.Runs} rounds, one of {large.Mib} MiB, then {smallPerLarge} of {small.Mib} MiB (the same bytes), each after `sync`. Nanoseconds per byte, median of the backups; the copy's phase ends with its first MiB hashed."));
    Line();
    Line($"| size | {string.Join(" | ", columns)} | total |");
    Line($"|---|{string.Concat(Enumerable.Repeat("---|", columns.Length + 1))}");
    foreach (var size in new[] { small, large })
    {
        var rows = perByte[size];
        var cells = Enumerable.Range(0, columns.Length).Select(i => new Stats(rows.Select(r => r[i]).ToList()).Median.ToString("0.000", inv));
        Line(string.Create(inv, $"| {size.Mib} MiB | {string.Join(" | ", cells)} | {new Stats(rows.Select(r => r.Sum()).ToList()).Median:0.000} |"));
    }

    Line();
    var pooled = perByte[small].Average(r => r.Sum()) / perByte[large].Average(r => r.Sum());
    var ratios = new Stats(roundRatios);
    Line(string.Create(inv, $"Per byte, {small.Mib} MiB against {large.Mib} MiB: {Percent(ratios.Median)} (median of the rounds; {Percent(ratios.Min)} to {Percent(ratios.Max)}), {Percent(pooled)} over all backups."));
    Line();
}

void MeasureTheRest(ServiceProvider services, DatabaseLocation location, BackupService backups, double? fullBackupSeconds)
{
    // Without the copy section, the full backup is timed once here for the ratios below.
    var reference = fullBackupSeconds ?? TimeIt(() =>
    {
        var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        Discard(manifest);
    });
    if (options.Sections.Contains("writer"))
    {
        MeasureWriters(location, backups);
    }

    if (options.Sections.Contains("health"))
    {
        MeasureHealth(services, location);
    }

    if (options.Sections.Contains("compression"))
    {
        MeasureCompression(location, backups, reference);
    }

    if (options.Sections.Contains("offsite"))
    {
        OffsiteBench.Run(extra => Services(location.DatabasePath, extra: extra), location, backups, reference, options.Runs, options.Directory, Line, Settle);
    }
}

void MeasureWriters(DatabaseLocation location, BackupService backups)
{
    // A backup runs (with the delete a rotation does after it), then the machine stays quiet for as long
    // as it took; then the physical reference for the same work, `dd conv=fsync` of the database file and
    // the delete of that copy, then quiet again; and so on. Each commit is tagged with what was running
    // when it began. Interleaving at the scale of one backup keeps the shared machine's drift out of the
    // comparison; one trial's p99 is still decided by a handful of slow commits, so trials are listed.
    Line("## A writer committing small transactions");
    Line();
    Line(string.Create(inv, $"Each trial ({2 * options.WriterSeconds} s, after one unreported warm-up) alternates a backup and then `dd conv=fsync` of the same file (each followed by the delete of what it wrote, as rotation does), each followed by as long again of quiet. Slow commits: over twice the trial's quiet p99, by what was running when they began."));
    Line();
    Line("| trial | backups / dd copies | commits quiet / backup / dd | p50 quiet / backup / dd | p99 quiet / backup / dd | max quiet / backup / dd | errors | p99 ratio backup / dd | slow commits: copy / hash / check / delete · dd / delete |");
    Line("|---|---|---|---|---|---|---|---|---|");
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
        Line(string.Create(inv, $"| {trial} | {result.Backups} / {result.RawCopies} | {Three(x => x.Samples.Count, "0")} | {Three(x => x.Percentile(50), "0.00")} ms | {Three(x => x.Percentile(99), "0.00")} ms | {Three(x => x.Max, "0.0")} ms | {result.Errors} | {backupRatios[^1]:0.00}× / {ddRatios[^1]:0.00}× | {Slow(WriterPhases.Backup)} · {Slow(WriterPhases.Raw)} |"));
    }

    Line();
    var pooledQuiet = pooled.Latencies(WriterPhase.None).Percentile(99);
    var pooledBackup = pooled.Latencies(WriterPhases.Backup).Percentile(99) / pooledQuiet;
    var pooledDd = pooled.Latencies(WriterPhases.Raw).Percentile(99) / pooledQuiet;
    Line(string.Create(inv, $"p99 ratio to the quiet p99: during a backup, median of the trials {new Stats(backupRatios).Median:0.00}×, all trials' commits pooled {pooledBackup:0.00}×; during `dd conv=fsync` of the same file and its delete, {new Stats(ddRatios).Median:0.00}× and {pooledDd:0.00}×. Errors: {pooled.Errors}. Largest WAL seen: {walMax >> 20} MiB."));
    Line();
}

WriterResult Writer(DatabaseLocation location, BackupService backups, TimeSpan duration, Action sample)
{
    using var stop = new CancellationTokenSource(duration);
    var phase = (int)WriterPhase.None;
    var phases = new PhaseTracker(p => InterlockedMax(ref phase, (int)p));
    var result = new WriterResult();
    var controller = Task.Run(() =>
    {
        var rawCopy = Path.Combine(location.BackupDirectory, "dd.copy");
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            var watch = Stopwatch.StartNew();

            // Neither is cancelled by the deadline: once started, each runs to the end.
            if (round % 2 == 0)
            {
                Volatile.Write(ref phase, (int)WriterPhase.Copy);
                var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1), phases, CancellationToken.None).GetAwaiter().GetResult();
                Volatile.Write(ref phase, (int)WriterPhase.Delete);
                Discard(manifest);
                result.Backups++;
            }
            else
            {
                // Another process reads the live file here, which is harmless: only this process's own
                // handles on it matter to SQLite's locks.
                Volatile.Write(ref phase, (int)WriterPhase.RawCopy);
                RawCopy(location.DatabasePath, rawCopy);
                Volatile.Write(ref phase, (int)WriterPhase.RawDelete);
                File.Delete(rawCopy);
                result.RawCopies++;
            }

            Volatile.Write(ref phase, (int)WriterPhase.None);
            stop.Token.WaitHandle.WaitOne(watch.Elapsed);
        }
    });
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

void MeasureHealth(ServiceProvider services, DatabaseLocation location)
{
    var state = services.GetRequiredService<StartupState>();
    state.Complete(new StartupResult { Location = location });
    var function = ActivatorUtilities.CreateInstance<HealthFunction>(services);
    function.Run(new DefaultHttpContext().Request).GetAwaiter().GetResult();
    const int Calls = 10_000;
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < Calls; i++)
    {
        function.Run(new DefaultHttpContext().Request).GetAwaiter().GetResult();
    }

    Line("## Health function");
    Line();
    Line(string.Create(inv, $"{Calls} calls from the cached report: {watch.Elapsed.TotalMilliseconds / Calls * 1000:0.0} µs per call (serialization included)."));
    Line();
}

void MeasureCompression(DatabaseLocation location, BackupService backups, double fullBackupSeconds)
{
    var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
    Line("## Compressing backups");
    Line();
    Line("| codec | size | saved | time added | time added / full backup |");
    Line("|---|---|---|---|---|");
    foreach (var (name, make) in new (string, Func<Stream, Stream>)[]
    {
        ("gzip fastest", s => new GZipStream(s, CompressionLevel.Fastest)),
        ("brotli fastest", s => new BrotliStream(s, CompressionLevel.Fastest)),
    })
    {
        var target = manifest.BackupPath + ".z";
        var watch = Stopwatch.StartNew();
        using (var input = File.OpenRead(manifest.BackupPath))
        using (var output = File.Create(target))
        using (var codec = make(output))
        {
            input.CopyTo(codec);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var size = new FileInfo(target).Length;
        File.Delete(target);
        Line(string.Create(inv, $"| {name} | {size >> 20} MiB | {100.0 * (1 - ((double)size / manifest.Size)):0}% | {seconds:0.00} s | {seconds / fullBackupSeconds:0.00}× |"));
    }

    Line();
    Discard(manifest);

    // The option as shipped, end to end: a Brotli backup (copy, SHA-256 and quick_check of the copy, then
    // compressing it into a synced file and hashing that) against a plain one, taking turns.
    using var compressing = Services(location.DatabasePath, "brotli");
    var brotliBackups = compressing.GetRequiredService<BackupService>();
    var disk = new DiskWrites(location.BackupDirectory);
    var times = new Dictionary<string, List<double>> { ["none"] = [], ["brotli"] = [] };
    var written = new Dictionary<string, List<long>> { ["none"] = [], ["brotli"] = [] };
    var sizes = new Dictionary<string, long>();
    for (var run = 0; run < options.Runs; run++)
    {
        foreach (var (kind, service) in new[] { ("none", backups), ("brotli", brotliBackups) })
        {
            Settle();
            var before = disk.Read();
            var watch = Stopwatch.StartNew();
            var made = service.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
            times[kind].Add(watch.Elapsed.TotalSeconds);
            Settle();
            if (disk.Read() - before is { } bytes)
            {
                written[kind].Add(bytes);
            }

            sizes[kind] = made.Size;
            Discard(made);
        }
    }

    var plain = new Stats(times["none"]);
    var brotli = new Stats(times["brotli"]);
    string Written(string kind) => written[kind].Count == 0 ? "n/a" : string.Create(inv, $"{new Stats(written[kind].ConvertAll(b => (double)b)).Median / 1048576:0} MiB");
    Line("| backup as shipped (`Persistence__Compression`) | time | ratio to `none` | size | written to the disk (median) |");
    Line("|---|---|---|---|---|");
    Line(string.Create(inv, $"| `none` | {plain.Describe()} | 1.00× | {sizes["none"] >> 20} MiB | {Written("none")} |"));
    Line(string.Create(inv, $"| `brotli` | {brotli.Describe()} | {brotli.Median / plain.Median:0.00}× | {sizes["brotli"] >> 20} MiB | {Written("brotli")} |"));
    Line();
    Line("Written to the disk: the device's sectors written from before the backup to a `sync` after it, the whole machine's writes included.");
    Line();
}

static void InterlockedMax(ref int target, int value)
{
    var seen = Volatile.Read(ref target);
    while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var before && before != seen)
    {
        seen = before;
    }
}

// The physical reference for a durable copy, the same in every section: `dd` with fsync, 4 MiB blocks.
static double RawCopy(string source, string target) => Shell.Time("dd", $"if={source}", $"of={target}", "bs=4M", "conv=fsync", "status=none");

// Removes a backup the benchmark made (its manifest first, as rotation does).
static void Discard(BackupManifest manifest)
{
    File.Delete(manifest.BackupPath + BackupNaming.ManifestSuffix);
    File.Delete(manifest.BackupPath);
}

static void Settle() => Shell.Time("sync");

static double TimeIt(Action action)
{
    var watch = Stopwatch.StartNew();
    action();
    return watch.Elapsed.TotalSeconds;
}

static void Sql(string database, string sql)
{
    using var connection = new SqliteConnection($"Data Source={database};Mode=ReadWrite;Pooling=False");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

ServiceProvider Services(string databasePath, string compression = "none", Dictionary<string, string?>? extra = null)
{
    var settings = new Dictionary<string, string?>
    {
        ["Persistence:DatabasePath"] = databasePath,
        ["Persistence:KeepBackups"] = "1000",
        ["Persistence:Compression"] = compression,
    };
    foreach (var (key, value) in extra ?? [])
    {
        settings[key] = value;
    }

    var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    var collection = new ServiceCollection();
    collection.AddLogging();
    collection.AddEmergencePersistence(configuration);
    collection.AddEmergenceFunctionApp(configuration);
    return collection.BuildServiceProvider();
}

internal sealed record SizeResult(int Mib, string DatabasePath, long Bytes);


