namespace Emergence.Persistence.Records;

/// <summary>
/// The last restore of the live database, kept in <see cref="FileName"/> in the backup directory by
/// whichever process performed it (startup recovery, a restore request, <c>emergence-db restore</c>), so
/// health reports a recovery after the fact: which backup, why, where the replaced files went.
/// </summary>
public static class RestoreRecord
{
    /// <summary>The record's file in the backup directory.</summary>
    public const string FileName = ".last-restore.json";

    // Written by whichever process restored and read from the volume only: no process keeps a copy of its own.
    private static readonly VolumeRecord<Restore> Record = new(FileName, _ => null);

    /// <summary>One restore.</summary>
    /// <param name="RestoredAt">When the restored database was put in place (UTC).</param>
    /// <param name="Backup">The backup restored (its file name).</param>
    /// <param name="Reason">Why it was restored.</param>
    /// <param name="Quarantine">Where the replaced database went, or <see langword="null"/> when nothing was replaced.</param>
    /// <param name="DatabasePath">The database restored.</param>
    public sealed record Restore(DateTimeOffset RestoredAt, string Backup, string Reason, string? Quarantine, string DatabasePath);

    /// <summary>Records a restore (best effort: a full volume cannot take it).</summary>
    public static void Write(string backupDirectory, Restore restore) => Record.Write(backupDirectory, restore);

    /// <summary>The last restore of <paramref name="databasePath"/>, or <see langword="null"/> when there is none or it cannot be read.</summary>
    public static Restore? LastFor(string backupDirectory, string databasePath)
        => Record.Read(backupDirectory) is { } last && string.Equals(last.DatabasePath, databasePath, StringComparison.Ordinal) ? last : null;
}
