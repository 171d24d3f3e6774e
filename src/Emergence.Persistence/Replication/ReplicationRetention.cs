using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Keeps every segment newer than the oldest kept backup and nothing older: a restore starts from a backup,
/// so segments whose every commit is older than all of them can never be replayed (the newest of those stays,
/// as the anchor a replay checks the next one against). A generation goes once its snapshot is older than
/// every kept backup and so is every segment in it, unless it is the one being written. The same rule
/// applies to the backup directory and, against the container's own backups, to the off-volume container.
/// </summary>
public static class ReplicationRetention
{
    /// <summary>What retention removes: segments (manifest first), then whole generations.</summary>
    /// <param name="Segments">Segments to delete, each older than every kept backup.</param>
    /// <param name="Generations">Generations to delete whole.</param>
    public sealed record Doomed(IReadOnlyList<ReplicationStore.StoredSegment> Segments, IReadOnlyList<GenerationManifest> Generations)
    {
        /// <summary>How many segments go, counting those of the generations deleted whole.</summary>
        public int SegmentCount { get; init; }
    }

    /// <summary>What no backup taken at or after <paramref name="oldest"/> can use; <paramref name="current"/> is never deleted whole.</summary>
    public static Doomed Select(IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<ReplicationStore.StoredSegment>> segmentsOf, DateTimeOffset oldest, string? current)
    {
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(segmentsOf);
        var segments = new List<ReplicationStore.StoredSegment>();
        var whole = new List<GenerationManifest>();
        var count = 0;
        foreach (var generation in generations)
        {
            var all = segmentsOf(generation.Id);
            var old = all.TakeWhile(s => s.Manifest is not null && s.Manifest.LastCommitAt < oldest).ToList();
            if (generation.Id != current && generation.BaseBackupTimestamp < oldest && old.Count == all.Count)
            {
                whole.Add(generation);
                count += all.Count;
                continue;
            }

            // The last of the old ones stays as the anchor that proves no segment is missing before the first one replayed.
            segments.AddRange(old.Take(old.Count - 1));
            count += Math.Max(old.Count - 1, 0);
        }

        return new Doomed(segments, whole) { SegmentCount = count };
    }

    /// <summary>Deletes from the backup directory what no kept backup can use; returns how many segments went.</summary>
    public static int Prune(DatabaseLocation location, DateTimeOffset now, string? current, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(location);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var kept = inventory.Verified.Where(b => !b.IsFromTheFuture).ToList();
        if (kept.Count == 0)
        {
            return 0;
        }

        var oldest = kept.Min(b => b.TakenAt);
        var store = new ReplicationStore(location.BackupDirectory);
        var doomed = Select(store.Generations(location.DatabasePath), store.Segments, oldest, current);
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
