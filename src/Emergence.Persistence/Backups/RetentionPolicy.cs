using Emergence.Persistence.Configuration;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Which verified backups rotation deletes: a pure function of the list (newest first, in the catalog's
/// trusted order) and the rules. What is kept, and why:
/// <list type="bullet">
/// <item>the backup just written (<c>protectedName</c>), even when a clock step made it sort as old;</item>
/// <item>the newest <see cref="RetentionRules.KeepLast"/> backups of distinct content;</item>
/// <item>the newest backup of each of the <see cref="RetentionRules.KeepDaily"/> most recent UTC days that have one, and of
/// each of the <see cref="RetentionRules.KeepWeekly"/> most recent weeks (Monday to Sunday) that have one, so a gap in
/// service does not age the older ones out;</item>
/// <item>the backup before each drop in content (<see cref="ContentLoss.Shrank"/>), the newest
/// <see cref="RetentionRules.KeepLast"/> such pins.</item>
/// </list>
/// Identical backups (the same SHA-256 of the database inside) count as one content: past the newest
/// <see cref="RetentionRules.KeepLast"/>, only a backup of a content not yet kept earns a place, and the daily,
/// weekly and pinned places go to the newest backup of each content. So a run of identical or emptied
/// backups can never leave only bad ones: the last good state before the drop, and older days and weeks, stay.
/// </summary>
public static class RetentionPolicy
{
    /// <summary>Returns the backups to delete under <paramref name="rules"/>.</summary>
    /// <param name="verifiedNewestFirst">Verified backups, newest first.</param>
    /// <param name="rules">How many to keep in each tier.</param>
    /// <param name="protectedName">A backup that must survive, or <see langword="null"/>.</param>
    public static IReadOnlyList<BackupEntry> SelectForDeletion(IReadOnlyList<BackupEntry> verifiedNewestFirst, RetentionRules rules, string? protectedName)
    {
        ArgumentNullException.ThrowIfNull(verifiedNewestFirst);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentOutOfRangeException.ThrowIfLessThan(rules.KeepLast, 1);

        var kept = new HashSet<string>(StringComparer.Ordinal);
        if (protectedName is not null && verifiedNewestFirst.Any(b => b.Name == protectedName))
        {
            kept.Add(protectedName);
        }

        // The first tier: the newest KeepLast backups (the protected one takes one of the places, as it always
        // has), then on past identical ones until KeepLast distinct contents are held, so a run of identical
        // backups cannot push out older, different ones.
        var contents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var backup in verifiedNewestFirst.Where(b => kept.Contains(b.Name)))
        {
            contents.Add(ContentOf(backup) ?? backup.Name);
        }

        foreach (var backup in verifiedNewestFirst)
        {
            var content = ContentOf(backup) ?? backup.Name;
            if (kept.Count < rules.KeepLast || (!contents.Contains(content) && contents.Count < rules.KeepLast))
            {
                kept.Add(backup.Name);
                contents.Add(content);
            }
        }

        var distinct = Distinct(verifiedNewestFirst);
        var reference = distinct.FirstOrDefault(b => !b.IsFromTheFuture)?.TakenAt ?? DateTimeOffset.MinValue;
        KeepNewestPerPeriod(distinct, kept, rules.KeepDaily, reference, t => t.UtcDateTime.Date);
        KeepNewestPerPeriod(distinct, kept, rules.KeepWeekly, reference, t => WeekStart(t.UtcDateTime));

        var pins = 0;
        for (var i = 0; i + 1 < distinct.Count && pins < rules.KeepLast; i++)
        {
            if (distinct[i + 1].Manifest is { } older && distinct[i].Manifest is { } newer && ContentLoss.Shrank(older, newer))
            {
                kept.Add(distinct[i + 1].Name);
                pins++;
            }
        }

        return [.. verifiedNewestFirst.Where(b => !kept.Contains(b.Name))];
    }

    /// <summary>The seed's rule alone: keep the newest <paramref name="keep"/> (and the protected one).</summary>
    public static IReadOnlyList<BackupEntry> SelectForDeletion(IReadOnlyList<BackupEntry> verifiedNewestFirst, int keep, string? protectedName) =>
        SelectForDeletion(verifiedNewestFirst, new RetentionRules(keep, 0, 0), protectedName);

    /// <summary>The newest backup of each content, newest first; backups without a known content are each distinct.</summary>
    private static List<BackupEntry> Distinct(IReadOnlyList<BackupEntry> newestFirst)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. newestFirst.Where(b => ContentOf(b) is not { } content || seen.Add(content))];
    }

    private static string? ContentOf(BackupEntry backup) => backup.Manifest?.ContentChecksum ?? backup.Manifest?.Checksum;

    private static void KeepNewestPerPeriod(List<BackupEntry> distinct, HashSet<string> kept, int periods, DateTimeOffset reference, Func<DateTimeOffset, DateTime> periodOf)
    {
        if (periods <= 0 || reference == DateTimeOffset.MinValue)
        {
            return;
        }

        var taken = new HashSet<DateTime>();
        var last = periodOf(reference);
        foreach (var backup in distinct.Where(b => !b.IsFromTheFuture))
        {
            var period = periodOf(backup.TakenAt);
            if (period <= last && taken.Count < periods && taken.Add(period))
            {
                kept.Add(backup.Name);
            }
        }
    }

    private static DateTime WeekStart(DateTime utc) => utc.Date.AddDays(-(((int)utc.DayOfWeek + 6) % 7));
}
