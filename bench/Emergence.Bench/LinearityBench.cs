using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Microsoft.Extensions.DependencyInjection;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>Whether a backup's time grows with its size alone: both sizes taking turns, per byte, phase by phase.</summary>
internal static class LinearityBench
{
    private static readonly string[] Columns = ["before the copy", "copy", "SHA-256 (beside the fsync)", "quick_check, rename, manifest", "after (rotation)"];

    public static void Run(Arguments options, SizeResult small, SizeResult large, Action<string> line)
    {
        // The per-size tables above are measured minutes apart, and this machine drifts by more than the
        // target's 15% in that time. Here both sizes take turns: one large backup, then as many small ones
        // as make up the same bytes, each after `sync`, in every round. Each backup's time is split by its
        // progress reports: before the copy, the copy into the page cache, SHA-256 (beside the fsync),
        // quick_check with rename and manifest, and what follows (rotation).
        var inv = CultureInfo.InvariantCulture;
        var smallPerLarge = (int)Math.Round((double)large.Bytes / small.Bytes);
        using var smallServices = Services(small.DatabasePath);
        using var largeServices = Services(large.DatabasePath);
        var perByte = new Dictionary<SizeResult, List<double[]>> { [small] = [], [large] = [] };
        var roundRatios = new List<double>();

        // One of each first, untimed: the first backup in a process pays for loading and compiling.
        Backup(small, smallServices, perByte);
        Backup(large, largeServices, perByte);
        perByte[small].Clear();
        perByte[large].Clear();
        for (var round = 0; round < options.Runs; round++)
        {
            var largeNs = Backup(large, largeServices, perByte).Sum();
            var smallNs = Enumerable.Range(0, smallPerLarge).Select(_ => Backup(small, smallServices, perByte).Sum()).Average();
            roundRatios.Add(smallNs / largeNs);
            Console.WriteLine(string.Create(inv, $"linearity round {round + 1}: {large.Mib} MiB {largeNs:0.00} ns/B, {small.Mib} MiB {smallNs:0.00} ns/B"));
        }

        Print(options, small, large, smallPerLarge, perByte, roundRatios, line);
    }

    /// <summary>One full backup of <paramref name="size"/>, its phases in nanoseconds per byte (kept in <paramref name="perByte"/>).</summary>
    private static double[] Backup(SizeResult size, ServiceProvider services, Dictionary<SizeResult, List<double[]>> perByte)
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

    private static void Print(Arguments options, SizeResult small, SizeResult large, int smallPerLarge, Dictionary<SizeResult, List<double[]>> perByte, List<double> roundRatios, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        string Percent(double ratio) => string.Create(inv, $"{100 * (ratio - 1):+0;-0}%");
        line("## Linearity");
        line("");
        line(string.Create(inv, $"Full verified backups taking turns: in each of {options.Runs} rounds, one of {large.Mib} MiB, then {smallPerLarge} of {small.Mib} MiB (the same bytes), each after `sync`. Nanoseconds per byte, median of the backups; the copy's phase ends with its first MiB hashed."));
        line("");
        line($"| size | {string.Join(" | ", Columns)} | total |");
        line($"|---|{string.Concat(Enumerable.Repeat("---|", Columns.Length + 1))}");
        foreach (var size in new[] { small, large })
        {
            var rows = perByte[size];
            var cells = Enumerable.Range(0, Columns.Length).Select(i => new Stats(rows.Select(r => r[i]).ToList()).Median.ToString("0.000", inv));
            line(string.Create(inv, $"| {size.Mib} MiB | {string.Join(" | ", cells)} | {new Stats(rows.Select(r => r.Sum()).ToList()).Median:0.000} |"));
        }

        line("");
        var pooled = perByte[small].Average(r => r.Sum()) / perByte[large].Average(r => r.Sum());
        var ratios = new Stats(roundRatios);
        line(string.Create(inv, $"Per byte, {small.Mib} MiB against {large.Mib} MiB: {Percent(ratios.Median)} (median of the rounds; {Percent(ratios.Min)} to {Percent(ratios.Max)}), {Percent(pooled)} over all backups."));
        line("");
    }
}
