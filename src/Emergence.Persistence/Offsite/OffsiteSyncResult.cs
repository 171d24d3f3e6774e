namespace Emergence.Persistence.Offsite;

/// <summary>What one off-volume upload run did.</summary>
/// <param name="Enabled">Whether off-volume copies are configured; nothing else is set when not.</param>
/// <param name="Container">The container, when configured.</param>
/// <param name="Uploaded">Backups copied in this run, oldest first.</param>
/// <param name="Deleted">Blobs rotation removed from the container.</param>
/// <param name="Count">Complete backups in the container after the run, when it succeeded.</param>
/// <param name="Error">Why the run failed; the local backups are untouched and the next run retries.</param>
public sealed record OffsiteSyncResult(bool Enabled, string? Container, IReadOnlyList<OffsiteBackup> Uploaded, IReadOnlyList<string> Deleted, int? Count, string? Error)
{
    /// <summary>The result when off-volume copies are not configured.</summary>
    public static OffsiteSyncResult Disabled { get; } = new(false, null, [], [], null, null);

    /// <summary>Whether the run succeeded (or there was nothing configured).</summary>
    public bool Succeeded => Error is null;
}
