namespace Emergence.Persistence.Replication;

/// <summary>
/// One history file of a generation: a segment (level 0, one segment's frames) or a level file (the pages of a run of
/// segments merged). Everything that reads or deletes it works on the file at <see cref="Path"/>; the timeline is planned
/// from its numbers and record alone.
/// </summary>
/// <remarks>
/// Built in three places: <see cref="ReplicationStore"/> lists the files under the backup directory, the history
/// compactor writes a level file there, and <see cref="OffsiteHistory.DownloadAsync"/> returns the files it downloaded.
/// A listing of the off-volume container (<see cref="OffsiteHistory.Listing"/>) is planned the same way before anything
/// is downloaded: there, and only there, <see cref="Path"/> is still the object's name in the container, and
/// <see cref="OffsiteHistory.DownloadAsync"/> is the only step that reads it.
/// </remarks>
/// <param name="Sequence">Its (first) segment's number, from its name.</param>
/// <param name="Path">The file on the volume (or, in a container listing, the object's name).</param>
/// <param name="Manifest">Its record, when it reads and matches its name.</param>
public sealed record HistoryFile(long Sequence, string Path, SegmentManifest? Manifest)
{
    /// <summary>Its level, from its name: 0 for a segment.</summary>
    public int Level { get; init; }

    /// <summary>The last segment it stands for, from its name (its own number for a segment).</summary>
    public long Last { get; init; } = Sequence;
}
