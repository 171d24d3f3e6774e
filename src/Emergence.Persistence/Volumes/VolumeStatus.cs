using System.Text.Json.Serialization;

namespace Emergence.Persistence.Volumes;

/// <summary>
/// What an inspection found about the directory that holds the database: the <c>volume</c> object
/// of the health report.
/// </summary>
public sealed record VolumeStatus
{
    /// <summary>Whether the directory is on a mounted file system other than the container's own layer.</summary>
    public required bool Mounted { get; init; }

    /// <summary>The directory inspected (the database directory).</summary>
    public required string Path { get; init; }

    /// <summary>Whether a probe file could be written, fsynced and deleted there.</summary>
    public required bool Writable { get; init; }

    /// <summary>Bytes available to this process on that file system, or 0 when unknown.</summary>
    public required long SizeAvailable { get; init; }

    /// <summary>Total bytes of that file system, or 0 when unknown.</summary>
    public required long SizeTotal { get; init; }

    /// <summary>Whether the database file exists in the directory.</summary>
    public required bool DatabaseExists { get; init; }

    /// <summary>When the inspection ran (UTC).</summary>
    public required DateTimeOffset LastCheck { get; init; }

    /// <summary>The file-system type holding the directory, e.g. <c>ext4</c>; <see langword="null"/> when unknown.</summary>
    public required string? Filesystem { get; init; }

    /// <summary>The mount point holding the directory; <see langword="null"/> when unknown.</summary>
    public required string? MountPoint { get; init; }

    /// <summary>The mount path Railway announced in <c>RAILWAY_VOLUME_MOUNT_PATH</c>, when set.</summary>
    public required string? ExpectedMountPath { get; init; }

    /// <summary>Whether the holding mount is read-only.</summary>
    public required bool ReadOnly { get; init; }

    /// <summary>Why the directory is missing or not writable (the OS error), or <see langword="null"/>.</summary>
    public string? Error { get; init; }

    /// <summary>Owner, mode and process identity, for the error log an operator reads; not serialized.</summary>
    [JsonIgnore]
    public VolumeDiagnostics? Diagnostics { get; init; }

    /// <summary>
    /// Whether the directory is on the mount Railway announced. <see langword="true"/> when Railway
    /// announced none.
    /// </summary>
    [JsonIgnore]
    public bool MatchesExpectedMount =>
        ExpectedMountPath is null
        || (MountPoint is not null && string.Equals(TrimSlash(ExpectedMountPath), MountPoint, StringComparison.Ordinal));

    /// <summary>A short label for logs of status changes, e.g. "mounted, writable, 1.2 GB free".</summary>
    [JsonIgnore]
    public string Summary =>
        $"{(Mounted ? "mounted" : "not mounted")} ({Filesystem ?? "unknown"} at {MountPoint ?? "?"}), "
        + $"{(Writable ? "writable" : "not writable")}, {SizeAvailable} bytes free";

    private static string TrimSlash(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
}

/// <summary>Who owns a directory and who the process is: what an operator needs to fix permissions.</summary>
/// <param name="ProcessUid">The effective uid of this process.</param>
/// <param name="ProcessGid">The effective gid of this process.</param>
/// <param name="OwnerUid">The directory owner's uid, when it exists.</param>
/// <param name="OwnerGid">The directory owner's gid, when it exists.</param>
/// <param name="Mode">The directory's permission bits in octal, when it exists.</param>
public sealed record VolumeDiagnostics(uint ProcessUid, uint ProcessGid, uint? OwnerUid, uint? OwnerGid, string? Mode);
