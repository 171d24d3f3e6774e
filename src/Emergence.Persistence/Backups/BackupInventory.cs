namespace Emergence.Persistence.Backups;

/// <summary>What the backup directory holds.</summary>
/// <param name="Directory">The backup directory.</param>
/// <param name="Backups">Every file named like a backup, newest first, with or without a manifest.</param>
/// <param name="TempFiles">Leftovers of interrupted writes (full paths).</param>
public sealed record BackupInventory(string Directory, IReadOnlyList<BackupEntry> Backups, IReadOnlyList<string> TempFiles)
{
    /// <summary>Backups with a readable manifest, newest first: the only ones rotation and restore consider.</summary>
    public IReadOnlyList<BackupEntry> Verified => [.. Backups.Where(b => b.HasManifest)];

    /// <summary>Backup files whose manifest file does not exist: never finished, to be swept.</summary>
    public IReadOnlyList<BackupEntry> Orphans => [.. Backups.Where(b => !b.HasManifest && !b.IsLink && !File.Exists(b.ManifestPath))];
}
