namespace Emergence.Persistence.Backups;

/// <summary>What the backup directory holds.</summary>
/// <param name="Directory">The backup directory.</param>
/// <param name="Backups">
/// Every file named like a backup, newest first by what cannot lie: the order number in its manifest,
/// then its timestamp; backups stamped in the future of the scan sort after all others.
/// </param>
/// <param name="TempFiles">Leftovers of interrupted writes of this project's own files (full paths).</param>
public sealed record BackupInventory(string Directory, IReadOnlyList<BackupEntry> Backups, IReadOnlyList<string> TempFiles)
{
    /// <summary>Backups with a readable manifest, newest first: the only ones rotation and restore consider.</summary>
    public IReadOnlyList<BackupEntry> Verified => [.. Backups.Where(b => b.HasManifest)];

    /// <summary>
    /// The candidates for restoring "the newest good backup" (<c>--latest</c>, startup recovery), in the order
    /// to try them: verified backups that are neither suspect nor from the future, newest first, then the
    /// suspect ones, then those from the future.
    /// </summary>
    public IReadOnlyList<BackupEntry> RestoreCandidates =>
        [.. Verified.Where(b => !b.IsFromTheFuture && !b.IsSuspect), .. Verified.Where(b => !b.IsFromTheFuture && b.IsSuspect), .. Verified.Where(b => b.IsFromTheFuture)];

    /// <summary>The newest verified backup that is not from the future, if any: what staleness and "changed since" compare with.</summary>
    public BackupEntry? Newest => Verified.FirstOrDefault(b => !b.IsFromTheFuture);

    /// <summary>The newest verified backup that is neither suspect nor from the future, if any.</summary>
    public BackupEntry? NewestGood => Verified.FirstOrDefault(b => !b.IsFromTheFuture && !b.IsSuspect);

    /// <summary>Verified backups whose timestamp lies in the future of the scan.</summary>
    public IReadOnlyList<BackupEntry> FromTheFuture => [.. Verified.Where(b => b.IsFromTheFuture)];

    /// <summary>The order number the next backup gets: one more than the highest present.</summary>
    public long NextSequence => Backups.Count == 0 ? 1 : Backups.Max(b => b.Order) + 1;

    /// <summary>Backup files whose manifest file does not exist: never finished, to be swept.</summary>
    public IReadOnlyList<BackupEntry> Orphans => [.. Backups.Where(b => !b.HasManifest && !b.IsSpecial && Platform.RegularFile.NotRegular(b.ManifestPath) is null && !File.Exists(b.ManifestPath))];
}
