namespace Emergence.Persistence.Backups;

/// <summary>Which verified backups rotation deletes: a pure function of the list and the count to keep.</summary>
public static class RetentionPolicy
{
    /// <summary>
    /// Returns the backups to delete so that <paramref name="keep"/> remain: the one named
    /// <paramref name="protectedName"/> (the backup just written, kept even when a clock step made
    /// it sort as old), then the newest of the rest.
    /// </summary>
    /// <param name="verifiedNewestFirst">Verified backups, newest first.</param>
    /// <param name="keep">How many to keep, 1 or more.</param>
    /// <param name="protectedName">A backup that must survive, or <see langword="null"/>.</param>
    public static IReadOnlyList<BackupEntry> SelectForDeletion(IReadOnlyList<BackupEntry> verifiedNewestFirst, int keep, string? protectedName)
    {
        ArgumentNullException.ThrowIfNull(verifiedNewestFirst);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);

        var kept = new HashSet<string>(StringComparer.Ordinal);
        if (protectedName is not null && verifiedNewestFirst.Any(b => b.Name == protectedName))
        {
            kept.Add(protectedName);
        }

        foreach (var backup in verifiedNewestFirst)
        {
            if (kept.Count >= keep)
            {
                break;
            }

            kept.Add(backup.Name);
        }

        return [.. verifiedNewestFirst.Where(b => !kept.Contains(b.Name))];
    }
}
