using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Keeps what the restore window needs, and nothing more. By position, not time, for what a replay needs: in each
/// generation, the files before the newest base at or before the window's start go (a replay starts at a base's point; with
/// no base that early, the earliest base is the start). By time, for how fine the points are: a file of a level whose time
/// has passed (<see cref="HistoryLevels.KeptFor"/>) goes once a coarser file covers its run. A generation whose newest
/// point is older than the window, or that no kept backup is a base of, goes whole, unless it is the one being written.
/// History written by an earlier version (never replayed) goes once its snapshot is older than the window and every kept
/// backup. Backups older than the window still restore, as themselves. The same rule applies to the backup directory
/// and, against the container's own backups, to the off-volume container.
/// </summary>
public static class ReplicationRetention
{
    /// <summary>What retention removes: files (record first), then whole generations.</summary>
    /// <param name="Segments">History files to delete.</param>
    /// <param name="Generations">Generations to delete whole.</param>
    public sealed record Doomed(IReadOnlyList<HistoryFile> Segments, IReadOnlyList<GenerationManifest> Generations)
    {
        /// <summary>How many files go, counting those of the generations deleted whole.</summary>
        public int SegmentCount { get; init; }
    }

    /// <summary>
    /// What no point of the restore window ending at <paramref name="now"/> needs, given <paramref name="kept"/> (the kept
    /// backups' manifests); <paramref name="current"/> is never deleted whole.
    /// </summary>
    public static Doomed Select(IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<HistoryFile>> filesOf,
        IReadOnlyList<BackupManifest> kept, string? current, DateTimeOffset now, ReplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(filesOf);
        ArgumentNullException.ThrowIfNull(kept);
        ArgumentNullException.ThrowIfNull(options);
        var files = new List<HistoryFile>();
        var whole = new List<GenerationManifest>();
        var count = 0;
        var windowStart = now - options.RestoreWindow;
        var oldest = kept.Count == 0 ? DateTimeOffset.MinValue : kept.Min(b => b.Timestamp);
        foreach (var generation in generations)
        {
            var all = filesOf(generation.Id);
            // One reading of the history per generation.
            var history = generation.IsProvable ? History.Read(generation, all, null, History.Check.Records) : null;
            var bases = history is null ? [] : kept.Select(b => Timeline.BaseIn(history, b)?.Index).OfType<int>().ToList();
            var outOfWindow = history is not null && PastTheWindow(history, windowStart);
            if (generation.Id != current && (history is null
                    ? generation.BaseBackupTimestamp < oldest && generation.BaseBackupTimestamp < windowStart
                    : bases.Count == 0 || outOfWindow))
            {
                whole.Add(generation);
                count += all.Count;
                continue;
            }

            if (history is null || history.Run.Count == 0)
            {
                continue;
            }

            var doomed = Before(history, all, bases, windowStart).Concat(Covered(all, now, options)).DistinctBy(f => f.Path).ToList();
            files.AddRange(doomed);
            count += doomed.Count;
        }

        return new Doomed(files, whole) { SegmentCount = count };
    }

    /// <summary>
    /// Whether every point of <paramref name="history"/> is older than the restore window starting at <paramref name="windowStart"/>:
    /// retention then deletes the generation whole (unless it is the one being written), and rotation no longer keeps its base.
    /// </summary>
    public static bool PastTheWindow(History history, DateTimeOffset windowStart)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history.TimeOf(history.Run.Count) < windowStart;
    }

    /// <summary>The files wholly before the point every restore into the window starts from: the newest base at or before the window's start, else the earliest base.</summary>
    private static IEnumerable<HistoryFile> Before(History history, IReadOnlyList<HistoryFile> all, List<int> bases, DateTimeOffset windowStart)
    {
        if (WindowBase(history, bases, windowStart) is not { } from || from == 0)
        {
            return []; // with no base, the generation being written (its snapshot rotated out): all of it stays
        }

        var lastBefore = history.Run[from - 1].Manifest!.Last;
        return all.Where(f => f.Last <= lastBefore);
    }

    /// <summary>
    /// The point of <paramref name="history"/> a replay to the window's oldest point starts from: the newest of
    /// <paramref name="bases"/> at or before the window's start, else the earliest; <see langword="null"/> with no base.
    /// </summary>
    private static int? WindowBase(History history, List<int> bases, DateTimeOffset windowStart)
    {
        if (bases.Count == 0)
        {
            return null;
        }

        var startPoint = Timeline.TargetPoint(history with { Ended = null }, windowStart);
        return startPoint is { } point && bases.Where(b => b <= point).DefaultIfEmpty(-1).Max() is var newest and >= 0 ? newest : bases.Min();
    }

    /// <summary>
    /// The backups (of <paramref name="backups"/>) the restore window's history starts from, which rotation keeps whatever its
    /// tiers say: for each generation with points in the window ending at <paramref name="now"/> (or the newest one, which
    /// may still be written), the backups at the point a replay to its oldest point in the window starts from (see
    /// <see cref="Select"/>). Without them a generation inside the window would lose its only base and, with it, every point
    /// up to its next one.
    /// </summary>
    public static IReadOnlySet<string> WindowBases(IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<HistoryFile>> filesOf,
        IReadOnlyList<BackupManifest> backups, DateTimeOffset now, ReplicationOptions options)
    {
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(filesOf);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(options);
        var held = new HashSet<string>(StringComparer.Ordinal);
        var windowStart = now - options.RestoreWindow;
        var newest = generations.Count == 0 ? null : generations[^1].Id; // oldest first
        foreach (var generation in generations.Where(g => g.IsProvable))
        {
            var history = History.Read(generation, filesOf(generation.Id), null, History.Check.Records);
            if (history.Run.Count == 0 || (generation.Id != newest && PastTheWindow(history, windowStart)))
            {
                continue; // nothing to replay, or retention deletes it whole anyway
            }

            var placed = backups.Select(b => (b.Filename, Index: Timeline.BaseIn(history, b)?.Index)).Where(p => p.Index is not null).ToList();
            if (WindowBase(history, [.. placed.Select(p => p.Index!.Value)], windowStart) is { } from)
            {
                held.UnionWith(placed.Where(p => p.Index == from).Select(p => p.Filename));
            }
        }

        return held;
    }

    /// <summary>Files whose level's time has passed and that a coarser file covers.</summary>
    private static IEnumerable<HistoryFile> Covered(IReadOnlyList<HistoryFile> all, DateTimeOffset now, ReplicationOptions options)
    {
        var coarser = all.Where(f => f.Level > 0 && f.Manifest is not null).ToList();
        foreach (var file in all)
        {
            if (file.Manifest is { } manifest && file.Level < HistoryLevels.Top && manifest.LastCommitAt < now - HistoryLevels.KeptFor(file.Level, options)
                && coarser.Any(c => c.Level > file.Level && c.Sequence <= file.Sequence && c.Last >= file.Last))
            {
                yield return file;
            }
        }
    }

    /// <summary>Deletes from the backup directory what no point of the restore window needs, then thins the history if the volume needs the room; returns how many files went.</summary>
    public static int Prune(DatabaseLocation location, DateTimeOffset now, string? current, ReplicationOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var kept = inventory.Verified; // a backup stamped by a clock that ran ahead still holds a point of the history
        if (kept.Count == 0)
        {
            return 0;
        }

        var store = new ReplicationStore(location.BackupDirectory);
        var doomed = Select(store.Generations(location.DatabasePath), store.Files, [.. kept.Select(b => b.Manifest!)], current, now, options);
        foreach (var file in doomed.Segments)
        {
            // The record goes first: a file without one is not part of the timeline.
            File.Delete(file.Path + ReplicationStore.ManifestSuffix);
            File.Delete(file.Path);
        }

        foreach (var generation in doomed.Generations)
        {
            Directory.Delete(store.DirectoryOf(generation.Id), recursive: true);
        }

        Log(logger, doomed, now - options.RestoreWindow, location.BackupDirectory);
        return doomed.SegmentCount;
    }

    /// <summary>Logs what was pruned where, when anything was.</summary>
    internal static void Log(ILogger logger, Doomed doomed, DateTimeOffset windowStart, string where)
    {
        if (doomed.SegmentCount + doomed.Generations.Count > 0)
        {
            var from = Records.UtcSecondsConverter.Format(windowStart);
            PersistenceLog.SegmentsPruned(logger, doomed.SegmentCount, doomed.Generations.Count, from, where);
        }
    }
}
