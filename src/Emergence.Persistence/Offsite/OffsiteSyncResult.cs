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

    /// <summary>
    /// The outcomes of one run to each target as one: the targets' names and errors joined with <c>+</c> and
    /// <c>; </c>, every upload and deletion, the smallest count. One outcome is itself.
    /// </summary>
    public static OffsiteSyncResult Combine(IReadOnlyList<OffsiteSyncResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 1)
        {
            return results[0];
        }

        var errors = results.Where(r => r.Error is not null).Select(r => $"{r.Container}: {r.Error}").ToList();
        return new OffsiteSyncResult(
            results.Any(r => r.Enabled),
            string.Join('+', results.Select(r => r.Container)),
            [.. results.SelectMany(r => r.Uploaded)],
            [.. results.SelectMany(r => r.Deleted)],
            results.Any(r => r.Count is null) ? null : results.Min(r => r.Count),
            errors.Count == 0 ? null : string.Join("; ", errors));
    }

    /// <summary>Whether the run succeeded (or there was nothing configured).</summary>
    public bool Succeeded => Error is null;
}
