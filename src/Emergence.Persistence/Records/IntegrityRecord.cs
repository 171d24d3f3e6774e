namespace Emergence.Persistence.Records;

/// <summary>
/// The last integrity check of the live database, kept in memory and in <see cref="FileName"/> in the
/// backup directory so that every process on the volume reports it: a backup's <c>quick_check</c> of its
/// page-exact copy, the app's periodic check, startup's probe, and a restore's check of what it put in place
/// all count. Health reads it; it never runs a check itself.
/// </summary>
public sealed class IntegrityRecord
{
    /// <summary>The record's file in the backup directory.</summary>
    public const string FileName = ".integrity.json";

    private readonly VolumeRecord<IntegrityResult> _record = new(FileName, _ => null, r => r.CheckedAt);

    /// <summary>The record of one integrity check of the live database.</summary>
    /// <param name="CheckedAt">When the check ran (UTC).</param>
    /// <param name="Result"><c>ok</c>, or the first problem the check reported.</param>
    /// <param name="Source">What ran it: <c>backup</c>, <c>periodic</c>, <c>startup</c>, <c>restore</c> or <c>status</c>.</param>
    /// <param name="DatabasePath">The database checked.</param>
    public sealed record IntegrityResult(DateTimeOffset CheckedAt, string Result, string Source, string DatabasePath)
    {
        /// <summary>Whether the check passed.</summary>
        public bool Ok => Result == "ok";
    }

    /// <summary>Records a check of the database whose backups are in <paramref name="backupDirectory"/>.</summary>
    public void Record(string backupDirectory, IntegrityResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _record.Remember(result);
        if (Directory.Exists(backupDirectory))
        {
            _record.Write(backupDirectory, result);
        }
    }

    /// <summary>The newest check of <paramref name="databasePath"/>: this process's or the one on the volume, whichever is later.</summary>
    public IntegrityResult? LastFor(string backupDirectory, string databasePath) =>
        _record.Latest(backupDirectory) is { } latest && string.Equals(latest.DatabasePath, databasePath, StringComparison.Ordinal) ? latest : null;
}
