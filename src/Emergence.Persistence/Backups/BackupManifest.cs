using Emergence.Persistence.Database;

namespace Emergence.Persistence.Backups;

/// <summary>
/// The record written beside a backup once it is verified; serialized in snake_case. A backup
/// without one is not a backup.
/// </summary>
public sealed record BackupManifest
{
    /// <summary>When the backup was taken (UTC).</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The backup's file name in the backup directory.</summary>
    public required string Filename { get; init; }

    /// <summary>The backup's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>Lowercase hex SHA-256 of the backup file.</summary>
    public required string Checksum { get; init; }

    /// <summary>The database the backup was taken from.</summary>
    public required string SourcePath { get; init; }

    /// <summary>Where the backup was written. Informational: the file is always looked up by <see cref="Filename"/> in the backup directory.</summary>
    public required string BackupPath { get; init; }

    /// <summary><c>scheduled</c>, <c>startup</c>, <c>pre-migration</c> or <c>manual</c>.</summary>
    public required string Reason { get; init; }

    /// <summary><c>ok</c>, or the first error <c>quick_check</c> reported.</summary>
    public required string QuickCheck { get; init; }

    /// <summary>The SQLite version that wrote the backup.</summary>
    public required string SqliteVersion { get; init; }

    /// <summary>The page size in bytes.</summary>
    public required long PageSize { get; init; }

    /// <summary>The number of pages.</summary>
    public required long PageCount { get; init; }

    /// <summary>The schema version (<c>PRAGMA user_version</c>).</summary>
    public required int UserVersion { get; init; }

    /// <summary><c>none</c>, or <c>brotli</c> when the file is compressed (its name then ends in <c>.br</c>).</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Lowercase hex SHA-256 of the database the backup holds (uncompressed); equals <see cref="Checksum"/> when not compressed.</summary>
    public string? ContentChecksum { get; init; }

    /// <summary>
    /// The backup's place in the order of backups written to this directory: one more than the highest
    /// before it, assigned under the backup lock. Backups are ordered by it, not by their clock-derived
    /// names or timestamps; <see langword="null"/> in manifests written before it existed (they order before any that have it).
    /// </summary>
    public long? Sequence { get; init; }

    /// <summary>How many entries the database's schema (<c>sqlite_schema</c>) holds: tables, indexes, views, triggers.</summary>
    public long? SchemaObjects { get; init; }

    /// <summary>
    /// Why this backup is suspect, when it is: the database had lost every table that the newest good
    /// backup before it held. A suspect backup is never chosen by <c>--latest</c> or startup recovery
    /// while a good one exists, and the good one before it is pinned by rotation.
    /// </summary>
    public string? Suspect { get; init; }

    /// <summary>
    /// The content checksum of the database the backup holds (<see cref="PageHashes"/>, 16 hex digits): what a
    /// replay onto this backup is proven against. <see langword="null"/> in manifests written before it existed.
    /// </summary>
    public string? ContentHash { get; init; }

    /// <summary>
    /// The exact point of the write-ahead log the backup's content holds: the log and its last commit frame,
    /// read while no writer could commit. A restore applies exactly the replicated commits after it.
    /// <see langword="null"/> when the database had no log then, or in manifests written before it existed.
    /// </summary>
    public WalPosition? WalPosition { get; init; }

    /// <summary>Whether the database had a write-ahead log when it was copied (so <see cref="WalPosition"/> null means "no log", not "unknown").</summary>
    public bool? Pinned { get; init; }
}
