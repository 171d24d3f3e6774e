using System.Globalization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;
using static Emergence.Bench.BenchTools;

namespace Emergence.Bench;

/// <summary>One timed restore: its target (<see langword="null"/>: the newest point, or a plain restore when it replayed nothing), its result and its phases.</summary>
internal sealed record TimedRestore(DateTimeOffset? Target, double Seconds, RestoreResult Result, IReadOnlyDictionary<string, double> Phases, double? Cached)
{
    private static readonly string[] Columns = ["refuse", "plan", "copy", "checksum", "quick_check", "replay", "content proof", "schema", "swap"];

    public const string HeaderRow = "| restore | s | base (cached) | files by level 0..4 | KiB read / decompressed | pages written (distinct) | replay: check / apply / fsync | refuse | plan | copy | hash+check+fsync | quick_check verdict | replay | content proof | schema | swap |";

    public const string RuleRow = "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// <summary>A plain restore of the newest backup, timed; <paramref name="cached"/>: each backup's share in the page cache before it.</summary>
    public static TimedRestore Plain(RestoreService restorer, DatabaseLocation location, IReadOnlyDictionary<string, double>? cached) =>
        Timed(location, null, cached, (held, phases) => restorer.Restore(location, held, null, force: true, "bench", phases));

    /// <summary>A restore to <paramref name="target"/> (<see langword="null"/>: the newest point), timed, with every generation reopened first.</summary>
    public static TimedRestore ToPoint(RestoreService restorer, DatabaseLocation location, ReplicationStore store, DateTimeOffset? target, IReadOnlyDictionary<string, double>? cached)
    {
        BenchTools.ReopenGenerations(store, location.DatabasePath);

        return Timed(location, target, cached, (held, phases) => restorer.RestoreToTime(location, held, target, force: true, "bench", phases));
    }

    /// <summary>This restore as a row of the <see cref="HeaderRow"/> table.</summary>
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

    /// <summary>Runs <paramref name="restore"/> under the volume lock, timed, with its phases; then deletes what it set aside.</summary>
    private static TimedRestore Timed(DatabaseLocation location, DateTimeOffset? target, IReadOnlyDictionary<string, double>? cached, Func<VolumeLock, RestorePhaseLog, RestoreResult> restore)
    {
        using var held = VolumeLock.TryAcquire(location.LockPath, TimeProvider.System, out _)!;
        var phases = new RestorePhaseLog();
        RestoreResult? result = null;
        var seconds = TimeIt(() => result = restore(held, phases));
        Unquarantine(result);
        return new TimedRestore(target, seconds, result!, phases.Durations(seconds), cached?.GetValueOrDefault(result!.Backup.Filename));
    }

    /// <summary>Deletes what a restore set aside (a copy of the database each time): forty of them fill a disk at 1 GiB.</summary>
    private static void Unquarantine(RestoreResult? result)
    {
        if (result?.QuarantineDirectory is { } directory && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
