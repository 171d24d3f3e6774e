using Emergence.Persistence.Database;

namespace Emergence.Persistence.Backups;

/// <summary>A verified copy of the database whose content is known exactly: what a replication generation starts from or continues at.</summary>
/// <param name="Backup">The backup holding that content (new, or the newest one when its content was the same).</param>
/// <param name="Position">The log point the content holds (<see langword="null"/>: the database had no log).</param>
/// <param name="Pinned">Whether the point was read while no writer could commit (otherwise it is unknown).</param>
/// <param name="Hashes">The content's page hashes.</param>
public sealed record BackupSnapshot(BackupManifest Backup, WalPosition? Position, bool Pinned, PageHashes Hashes);
