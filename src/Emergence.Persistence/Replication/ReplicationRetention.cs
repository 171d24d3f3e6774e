using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Keeps every segment newer than the oldest kept backup and nothing older: a restore starts from a backup,
/// so segments whose every commit is older than all of them can never be replayed (the newest of those stays,
/// as the anchor a replay checks the next one against). A generation folder goes once its snapshot is older
/// than every kept backup and so is every segment in it, unless it is the one being written.
/// </summary>
public static class ReplicationRetention
{
    /// <summary>Deletes what no kept backup can use; returns how many segments went.</summary>
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
        var (segments, generations) = (0, 0);
        foreach (var generation in store.Generations(location.DatabasePath))
        {
            var all = store.Segments(generation.Id);
            // The last of the old ones stays as the anchor that proves no segment is missing before the first one replayed.
            var old = all.TakeWhile(s => s.Manifest is not null && s.Manifest.LastCommitAt < oldest).ToList();
            foreach (var segment in old.Take(old.Count - 1))
            {
                // The manifest goes first: a segment without one is not part of the timeline.
                File.Delete(segment.Path + ReplicationStore.ManifestSuffix);
                File.Delete(segment.Path);
                segments++;
            }

            if (generation.Id != current && generation.BaseBackupTimestamp < oldest && old.Count == all.Count)
            {
                segments += Math.Min(old.Count, 1);
                Directory.Delete(store.DirectoryOf(generation.Id), recursive: true);
                generations++;
            }
        }

        if (segments + generations > 0)
        {
            var at = oldest.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            PersistenceLog.SegmentsPruned(logger, segments, generations, at);
        }

        return segments;
    }
}
