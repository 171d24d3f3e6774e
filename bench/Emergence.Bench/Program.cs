using System.Globalization;
using System.Text;
using Emergence.Bench;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Microsoft.Extensions.DependencyInjection;
using static Emergence.Bench.BenchTools;

// Measures backups side by side with dd, sqlite3 .backup, VACUUM INTO and BackupDatabase in one run,
// and prints ratios to dd (the physical limit of a durable copy). The options and their defaults: --help
// (Arguments.Usage).
// Each section is a file of its own (CopyBench, WriterBench, HealthBench, CompressionBench, OffsiteBench,
// LinearityBench, ReplicationBench, HistoryBench); this file parses the arguments and runs them in order.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(Arguments.Usage);
    return 0;
}

Arguments options;
try
{
    options = Arguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"bench: {ex.Message} (--help lists the options)");
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
Line(string.Create(inv, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, SQLite {SqliteRuntime.Version}, {options.Runs} runs per figure at the large size and {CopyBench.SmallRunFactor * options.Runs} at the small one (a fraction of a second each, where one stall moves a median of three), median (min–max). Ratios are to `dd conv=fsync` measured in the same run (three samples per run, spread through it)."));
Line();

var results = new Dictionary<int, SizeResult>();
foreach (var sizeMib in new[] { options.SmallMib, options.SizeMib }.Distinct())
{
    results[sizeMib] = CopyBench.Run(options, sizeMib, full: sizeMib == options.SizeMib, Line, MeasureTheRest);
}

if (options.Sections.Contains("linearity"))
{
    LinearityBench.Run(options, results[options.SmallMib], results[options.SizeMib], Line);
}

if (options.Sections.Contains("replication"))
{
    ReplicationBench.Run(options, (database, compression) => Services(database, compression), Line);
}
else if (options.Sections.Contains("steady-writer"))
{
    Line("## WAL replication: the steady writer alone");
    Line("");
    SteadyWriterBench.Run(options, (database, compression) => Services(database, compression), Line, CultureInfo.InvariantCulture);
}

if (options.Sections.Contains("history") || options.Sections.Contains("history-rate"))
{
    HistoryBench.Run(options, (database, compression) => Services(database, compression), Line);
}

File.WriteAllText(options.Output, report.ToString());
Console.WriteLine($"written to {options.Output}");
return 0;

// The sections that measure the large database once it is there.
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
        WriterBench.Run(options, location, backups, Line);
    }

    if (options.Sections.Contains("health"))
    {
        HealthBench.Run(services, location, Line);
    }

    if (options.Sections.Contains("compression"))
    {
        CompressionBench.Run(options, location, backups, reference, Line);
    }

    if (options.Sections.Contains("offsite"))
    {
        OffsiteBench.Run(extra => Services(location.DatabasePath, extra: extra), location, backups, reference, options.Runs, options.Directory, Line, Settle);
    }
}
