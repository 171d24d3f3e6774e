using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Offsite;

/// <summary>A backup in the off-volume container, with its manifest when it has a readable one.</summary>
public sealed record OffsiteBackup
{
    /// <summary>The blob's name: the backup's file name, as on the volume.</summary>
    public required string Name { get; init; }

    /// <summary>The UTC second in its name.</summary>
    public required DateTimeOffset Stamp { get; init; }

    /// <summary>1 for the first backup of that second, 2 for the next…</summary>
    public required int Sequence { get; init; }

    /// <summary>The blob's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>When the blob was last written.</summary>
    public DateTimeOffset? UploadedAt { get; init; }

    /// <summary>The manifest blob's content, when it exists and parses.</summary>
    public BackupManifest? Manifest { get; init; }

    /// <summary>Why the manifest is unusable (missing, malformed), when it is.</summary>
    public string? ManifestError { get; init; }

    /// <summary>Whether the copy is complete: its manifest blob, written last, exists and parses.</summary>
    public bool IsComplete => Manifest is not null;

    /// <summary>When the backup was taken: its manifest's timestamp, else the second in its name.</summary>
    public DateTimeOffset TakenAt => Manifest?.Timestamp ?? Stamp;

    /// <summary>Lists the off-volume container's backups (already newest first), ages taken at <paramref name="now"/>.</summary>
    public static IReadOnlyList<BackupListing> Listing(IReadOnlyList<OffsiteBackup> backups, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(backups);
        return [.. backups.Select(b => new BackupListing(b.Name, b.Size, b.TakenAt, (long)(now - b.TakenAt).TotalSeconds, b.Manifest?.Checksum, b.Manifest?.Reason, b.IsComplete, b.ManifestError))];
    }
}
