using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Microsoft.Extensions.DependencyInjection;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>Compressing backups: two codecs over a backup file, then the option as shipped against a plain backup, taking turns.</summary>
internal static class CompressionBench
{
    public static void Run(Arguments options, DatabaseLocation location, BackupService backups, double fullBackupSeconds, Action<string> line)
    {
        Codecs(location, backups, fullBackupSeconds, line);
        AsShipped(options, location, backups, line);
    }

    private static void Codecs(DatabaseLocation location, BackupService backups, double fullBackupSeconds, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        line("## Compressing backups");
        line("");
        line("| codec | size | saved | time added | time added / full backup |");
        line("|---|---|---|---|---|");
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
            line(string.Create(inv, $"| {name} | {size >> 20} MiB | {100.0 * (1 - ((double)size / manifest.Size)):0}% | {seconds:0.00} s | {seconds / fullBackupSeconds:0.00}× |"));
        }

        line("");
        Discard(manifest);
    }

    /// <summary>
    /// The option as shipped, end to end: a Brotli backup (copy, SHA-256 and quick_check of the copy, then
    /// compressing it into a synced file and hashing that) against a plain one, taking turns.
    /// </summary>
    private static void AsShipped(Arguments options, DatabaseLocation location, BackupService backups, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
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
        line("| backup as shipped (`Persistence__Compression`) | time | ratio to `none` | size | written to the disk (median) |");
        line("|---|---|---|---|---|");
        line(string.Create(inv, $"| `none` | {plain.Describe()} | 1.00× | {sizes["none"] >> 20} MiB | {Written("none")} |"));
        line(string.Create(inv, $"| `brotli` | {brotli.Describe()} | {brotli.Median / plain.Median:0.00}× | {sizes["brotli"] >> 20} MiB | {Written("brotli")} |"));
        line("");
        line("Written to the disk: the device's sectors written from before the backup to a `sync` after it, the whole machine's writes included.");
        line("");
    }
}
