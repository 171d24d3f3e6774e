using Emergence.Persistence.Records;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Whether a database lost its content relative to a backup: pure functions over what manifests and
/// checks record, used so that a database that was emptied (truncated to 0 bytes, replaced by an empty
/// file, its tables dropped) can never push the last good state out of the backups.
/// </summary>
/// <remarks>
/// The rule, in two strengths. <b>Lost every table</b> (the backup had schema entries, the database has
/// none) is never a normal change: such a database is unhealthy, its backups are marked suspect, and startup
/// recovers it from the newest good backup. <b>Shrank</b> (fewer schema entries, a lower
/// <c>user_version</c>, or under half the pages) can be a deliberate migration, clean-up or restore: rotation
/// then pins the backup from before the drop, and nothing else changes.
/// </remarks>
public static class ContentLoss
{
    /// <summary>
    /// Why a database with <paramref name="schemaObjects"/> schema entries lost every table relative to
    /// <paramref name="baseline"/>; <see langword="null"/> when it did not (or the baseline held none either).
    /// </summary>
    public static string? LostEveryTable(BackupManifest? baseline, long schemaObjects)
    {
        if (baseline is null || schemaObjects != 0)
        {
            return null;
        }

        // Manifests written before schema_objects existed: a database with any table has at least 2 pages.
        var had = baseline.SchemaObjects ?? (baseline.PageCount > 1 ? (long?)null : 0);
        if (had == 0)
        {
            return null;
        }

        var held = had is { } n ? $"{n} schema entries" : $"{baseline.PageCount} pages";
        return $"it has no tables, but the backup {baseline.Filename} taken {UtcSecondsConverter.Format(baseline.Timestamp)} held {held}";
    }

    /// <summary>
    /// Whether <paramref name="newer"/> holds less than <paramref name="older"/>, the backup before it: suspect,
    /// fewer schema entries, a lower <c>user_version</c>, or under half the pages.
    /// </summary>
    public static bool Shrank(BackupManifest older, BackupManifest newer)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        return (newer.Suspect is not null && older.Suspect is null)
            || newer.UserVersion < older.UserVersion
            || (newer.SchemaObjects is { } n && older.SchemaObjects is { } o && n < o)
            || newer.PageCount * 2 < older.PageCount;
    }
}
