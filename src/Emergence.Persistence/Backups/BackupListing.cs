namespace Emergence.Persistence.Backups;

/// <summary>One row of a backup listing (<c>emergence-db list</c>, <c>GET /api/backups</c>).</summary>
/// <param name="Name">The backup's file name.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Timestamp">When it was taken (from its manifest, else from its name).</param>
/// <param name="AgeSeconds">Seconds since then.</param>
/// <param name="Checksum">The manifest's SHA-256, when it has a manifest.</param>
/// <param name="Reason">Why it was taken, when it has a manifest.</param>
/// <param name="Verified">Whether it has a valid manifest (it was verified when written).</param>
/// <param name="Problem">Why it is not a valid backup, when it is not.</param>
public sealed record BackupListing(string Name, long Size, DateTimeOffset Timestamp, long AgeSeconds, string? Checksum, string? Reason, bool Verified, string? Problem)
{
    /// <summary>Lists a backup directory newest first, ages taken at <paramref name="now"/>.</summary>
    public static IReadOnlyList<BackupListing> Of(BackupInventory inventory, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        return [.. inventory.Backups.Select(b =>
        {
            var at = b.Manifest?.Timestamp ?? b.Stamp;
            return new BackupListing(b.Name, b.Size, at, (long)(now - at).TotalSeconds, b.Manifest?.Checksum, b.Manifest?.Reason, b.HasManifest, b.ManifestError);
        })];
    }
}
