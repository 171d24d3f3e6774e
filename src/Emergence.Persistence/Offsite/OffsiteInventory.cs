namespace Emergence.Persistence.Offsite;

/// <summary>What the off-volume container holds for one database.</summary>
/// <param name="Backups">Backup blobs, newest first, each with its manifest when it has a readable one.</param>
/// <param name="StrayManifests">Manifest blobs whose backup blob is missing (an interrupted rotation).</param>
public sealed record OffsiteInventory(IReadOnlyList<OffsiteBackup> Backups, IReadOnlyList<string> StrayManifests);
