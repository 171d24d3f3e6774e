namespace Emergence.Persistence.Backups;

/// <summary>A backup file found in the backup directory, with its manifest when it has a readable one.</summary>
public sealed record BackupEntry
{
    /// <summary>The backup's file name.</summary>
    public required string Name { get; init; }

    /// <summary>The backup's full path (always inside the backup directory).</summary>
    public required string Path { get; init; }

    /// <summary>The UTC second in its name.</summary>
    public required DateTimeOffset Stamp { get; init; }

    /// <summary>1 for the first backup of that second, 2 for the next…</summary>
    public required int Sequence { get; init; }

    /// <summary>The file's size on disk.</summary>
    public required long Size { get; init; }

    /// <summary>The manifest, when one exists and parses.</summary>
    public BackupManifest? Manifest { get; init; }

    /// <summary>Why the manifest is unusable (missing, malformed), when it is.</summary>
    public string? ManifestError { get; init; }

    /// <summary>Whether the backup's name is not a regular file (a symbolic link, a FIFO, a device): never read, restored or deleted.</summary>
    public bool IsSpecial { get; init; }

    /// <summary>Whether its manifest's timestamp lies in the future of the scan (beyond <see cref="BackupCatalog.FutureTolerance"/>): a clock was wrong.</summary>
    public bool IsFromTheFuture { get; init; }

    /// <summary>When it was taken: its manifest's timestamp, else the stamp in its name.</summary>
    public DateTimeOffset TakenAt => Manifest?.Timestamp ?? Stamp;

    /// <summary>The order number from its manifest (0 when it has none).</summary>
    public long Order => Manifest?.Sequence ?? 0;

    /// <summary>Whether it holds a database that lost its content (see <see cref="BackupManifest.Suspect"/>).</summary>
    public bool IsSuspect => Manifest?.Suspect is not null;

    /// <summary>Whether the backup has a readable manifest, i.e. it was verified when written.</summary>
    public bool HasManifest => Manifest is not null;

    /// <summary>The manifest's full path.</summary>
    public string ManifestPath => Path + BackupNaming.ManifestSuffix;
}
