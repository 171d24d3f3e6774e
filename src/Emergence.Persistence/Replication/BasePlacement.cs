using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Where a backup's content lies in a generation's history, behind <see cref="Timeline.BaseIn"/>: by the log point the
/// backup was pinned at when a file of the run decides it, else by its content checksum among the history's points.
/// </summary>
internal static class BasePlacement
{
    /// <summary>
    /// The index of the first file of <paramref name="history"/>'s run that <paramref name="manifest"/>'s content does not
    /// wholly hold, and the point inside it that it holds (when it holds part of it); <see langword="null"/> when the
    /// backup is not a state of this history (or the generation is not provable).
    /// </summary>
    public static (int Index, WalPosition? Skip)? Find(History history, BackupManifest manifest)
    {
        if (!history.Generation.IsProvable)
        {
            return null;
        }

        var (decided, at) = ByLogPoint(history, manifest);
        return decided ? at : ByContent(history, manifest);
    }

    /// <summary>Whether the backup's pinned log point decides <see cref="Find"/> within the run as read (see <see cref="Timeline.PlacedByLogPoint"/>).</summary>
    public static bool DecidedByLogPoint(History history, BackupManifest manifest) =>
        history.Generation.IsProvable && ByLogPoint(history, manifest).Decided;

    /// <summary>A pinned backup placed by its log point: decided, with the place or <see langword="null"/> (a point no file of the run has), or not decided by it.</summary>
    private static (bool Decided, (int Index, WalPosition? Skip)? At) ByLogPoint(History history, BackupManifest manifest)
    {
        var generation = history.Generation;
        var at = manifest.WalPosition;
        if (manifest.Pinned != true)
        {
            return (false, null);
        }

        if (history.FirstSequence == 1 && (at is null ? generation.Start is null : SamePoint(at, generation.Start)))
        {
            return (true, (0, null)); // the snapshot: a base only while the run still starts there
        }

        for (var i = 0; at is not null && i < history.Run.Count; i++)
        {
            var file = history.Run[i].Manifest!;
            var (start, end) = (file.StartPosition, file.EndPosition);
            if (file.LevelOrZero > 0)
            {
                // A level file holds no frames: a base inside its run is placed by log order, and the proof after the replay confirms it.
                if (SamePoint(at, start))
                {
                    return (true, (i, null));
                }

                if (SamePoint(at, end))
                {
                    return (true, (i + 1, null));
                }

                if (file.ResumesInside != true && file.ResumedByContent != true && Within(at, start, end))
                {
                    return (true, (i, at));
                }

                continue;
            }

            if (!start.IsLog(at.Header) || at.Frames < start.Frames || at.Frames > end.Frames)
            {
                continue;
            }

            if (at.Frames == end.Frames)
            {
                return (true, SamePoint(at, end) ? (i + 1, null) : null);
            }

            return (true, at.Frames == start.Frames ? (SamePoint(at, start) ? (i, null) : null) : (i, at));
        }

        return (false, null);
    }

    /// <summary>
    /// A backup whose content equals the history at one of its points (taken before positions were recorded, or the
    /// same content in another log) is a base there: the newest such point.
    /// </summary>
    private static (int Index, WalPosition? Skip)? ByContent(History history, BackupManifest manifest)
    {
        if (PageHashes.Parse(manifest.ContentHash) is { } hash)
        {
            for (var point = history.Run.Count; point >= 0; point--)
            {
                if (history.HashOf(point) == hash)
                {
                    return (point, null);
                }
            }
        }

        return null;
    }

    private static bool Within(WalPosition at, WalPosition start, WalPosition end)
    {
        var afterStart = at.CheckpointSequence > start.CheckpointSequence
            || (at.CheckpointSequence == start.CheckpointSequence && at.Salt1 == start.Salt1 && at.Salt2 == start.Salt2 && at.Frames > start.Frames);
        var beforeEnd = at.CheckpointSequence < end.CheckpointSequence
            || (at.CheckpointSequence == end.CheckpointSequence && at.Salt1 == end.Salt1 && at.Salt2 == end.Salt2 && at.Frames < end.Frames);
        return afterStart && beforeEnd && at.PageSize == start.PageSize;
    }

    private static bool SamePoint(WalPosition a, WalPosition? b) =>
        b is not null && a.Salt1 == b.Salt1 && a.Salt2 == b.Salt2 && a.CheckpointSequence == b.CheckpointSequence && a.Frames == b.Frames && a.S1 == b.S1 && a.S2 == b.S2;
}
