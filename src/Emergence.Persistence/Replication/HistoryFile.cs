namespace Emergence.Persistence.Replication;

/// <summary>
/// One history file of a generation: a segment (level 0, one segment's frames) or a level file (the pages of a run of
/// segments merged), either on the volume or as an object in an off-volume container. The timeline is planned, and
/// retention decides, from its numbers and record alone, wherever it is; so one type serves both places, and
/// <see cref="InContainer"/> says which <see cref="Path"/> names.
/// </summary>
/// <remarks>
/// Built by <see cref="OnVolume"/> where the files under the backup directory are listed or written (the replication
/// store, the history compactor) and by <see cref="InContainerAs"/> where a container is listed
/// (<see cref="OffsiteHistory.ListAsync"/>). Code that moves objects reads <see cref="ObjectName"/>, which refuses a file
/// on the volume; <see cref="OffsiteHistory.DownloadAsync"/> turns listed objects into files on the volume
/// (<see cref="DownloadedTo"/>) before anything reads their bytes.
/// </remarks>
/// <param name="Sequence">Its (first) segment's number, from its name.</param>
/// <param name="Path">The file on the volume; or, when <see cref="InContainer"/>, the object's name in the container.</param>
/// <param name="Manifest">Its record, when it reads and matches its name.</param>
public sealed record HistoryFile(long Sequence, string Path, SegmentManifest? Manifest)
{
    /// <summary>Its level, from its name: 0 for a segment.</summary>
    public int Level { get; init; }

    /// <summary>The last segment it stands for, from its name (its own number for a segment).</summary>
    public long Last { get; init; } = Sequence;

    /// <summary>
    /// Whether this is an object listed in an off-volume container (<see cref="Path"/> is then its object name), rather than
    /// a file on the volume.
    /// </summary>
    public bool InContainer { get; private init; }

    /// <summary>The object's name in the container.</summary>
    /// <exception cref="InvalidOperationException">This is a file on the volume, not an object in a container.</exception>
    public string ObjectName => InContainer ? Path : throw new InvalidOperationException($"{Path} is a history file on the volume, not an object in a container.");

    /// <summary>A history file on the volume, at <paramref name="path"/>.</summary>
    public static HistoryFile OnVolume(long sequence, string path, SegmentManifest? manifest) => new(sequence, path, manifest);

    /// <summary>A history file listed in an off-volume container under <paramref name="objectName"/>.</summary>
    public static HistoryFile InContainerAs(long sequence, string objectName, SegmentManifest? manifest) => new(sequence, objectName, manifest) { InContainer = true };

    /// <summary>This listed object once downloaded to <paramref name="path"/> on the volume: the same numbers and record.</summary>
    /// <exception cref="InvalidOperationException">This is already a file on the volume.</exception>
    public HistoryFile DownloadedTo(string path) => InContainer
        ? this with { Path = path, InContainer = false }
        : throw new InvalidOperationException($"{Path} is already a history file on the volume.");
}
