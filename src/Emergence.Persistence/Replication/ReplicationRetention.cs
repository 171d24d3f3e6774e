using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Keeps every segment a kept backup can be replayed from, and nothing older. By position, not time: in each
/// generation, the segments before the earliest point any kept backup is a base of go (a replay starts at a base's
/// point, and the run then starts at the first segment kept); a generation no kept backup is a base of goes whole,
/// unless it is the one being written. History written by an earlier version (never replayed) goes once its snapshot
/// is older than every kept backup. The same rule applies to the backup directory and, against the container's own
/// backups, to the off-volume container.
/// </summary>
public static class ReplicationRetention
{
    /// <summary>What retention removes: segments (manifest first), then whole generations.</summary>
    /// <param name="Segments">Segments to delete, each before every kept backup's point.</param>
    /// <param name="Generations">Generations to delete whole.</param>
    public sealed record Doomed(IReadOnlyList<ReplicationStore.StoredSegment> Segments, IReadOnlyList<GenerationManifest> Generations)
    {
        /// <summary>How many segments go, counting those of the generations deleted whole.</summary>
        public int SegmentCount { get; init; }
    }

    /// <summary>What none of <paramref name="kept"/> (the kept backups' manifests) can be replayed from; <paramref name="current"/> is never deleted whole.</summary>
    public static Doomed Select(IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<ReplicationStore.StoredSegment>> segmentsOf, IReadOnlyList<BackupManifest> kept, string? current)
    {
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(segmentsOf);
        ArgumentNullException.ThrowIfNull(kept);
        var segments = new List<ReplicationStore.StoredSegment>();
        var whole = new List<GenerationManifest>();
        var count = 0;
        var oldest = kept.Count == 0 ? DateTimeOffset.MinValue : kept.Min(b => b.Timestamp);
        foreach (var generation in generations)
        {
            var all = segmentsOf(generation.Id);
            // One reading of the history per generation: the earliest point any kept backup is a base of.
            var history = generation.IsProvable ? History.Read(generation, all, null, History.Check.Records) : null;
            var earliest = history is null ? null : kept.Select(b => Timeline.BaseIn(history, b)?.Index).Where(i => i is not null).Min();
            if (earliest is null && generation.Id != current && (generation.IsProvable || generation.BaseBackupTimestamp < oldest))
            {
                whole.Add(generation);
                count += all.Count;
                continue;
            }

            // Kept from the earliest base on; with none yet (the current one's snapshot rotated out), all of it.
            if (earliest is { } first)
            {
                var before = history!.Run.Take(first).ToList();
                segments.AddRange(before);
                count += before.Count;
            }
        }

        return new Doomed(segments, whole) { SegmentCount = count };
    }

    /// <summary>Deletes from the backup directory what no kept backup can use; returns how many segments went.</summary>
    public static int Prune(DatabaseLocation location, DateTimeOffset now, string? current, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(location);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var kept = inventory.Verified; // a backup stamped by a clock that ran ahead still holds a point of the history
        if (kept.Count == 0)
        {
            return 0;
        }

        var oldest = kept.Min(b => b.TakenAt);
        var store = new ReplicationStore(location.BackupDirectory);
        var doomed = Select(store.Generations(location.DatabasePath), store.Segments, [.. kept.Select(b => b.Manifest!)], current);
        foreach (var segment in doomed.Segments)
        {
            // The manifest goes first: a segment without one is not part of the timeline.
            File.Delete(segment.Path + ReplicationStore.ManifestSuffix);
            File.Delete(segment.Path);
        }

        foreach (var generation in doomed.Generations)
        {
            Directory.Delete(store.DirectoryOf(generation.Id), recursive: true);
        }

        Log(logger, doomed, oldest, location.BackupDirectory);
        return doomed.SegmentCount;
    }

    /// <summary>Logs what was pruned where, when anything was.</summary>
    internal static void Log(ILogger logger, Doomed doomed, DateTimeOffset oldest, string where)
    {
        if (doomed.SegmentCount + doomed.Generations.Count > 0)
        {
            var at = oldest.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            PersistenceLog.SegmentsPruned(logger, doomed.SegmentCount, doomed.Generations.Count, at, where);
        }
    }
}
