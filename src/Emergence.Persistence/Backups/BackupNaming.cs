using System.Globalization;
using System.Text.RegularExpressions;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Backup file names: <c>&lt;db-stem&gt;_backup_&lt;UTC yyyyMMdd_HHmmss&gt;[_N]&lt;db-ext&gt;</c>, the manifest
/// beside it with <c>.json</c> appended, and <c>.tmp</c> for files still being written.
/// </summary>
public sealed class BackupNaming
{
    /// <summary>The suffix of files still being written.</summary>
    public const string TempSuffix = Platform.Durable.TempSuffix;

    /// <summary>The suffix appended to a backup's name to name its manifest.</summary>
    public const string ManifestSuffix = ".json";

    /// <summary>The suffix appended to the name of a Brotli-compressed backup.</summary>
    public const string CompressedSuffix = ".br";

    private const string StampFormat = "yyyyMMdd_HHmmss";
    private readonly Regex _pattern;

    /// <summary>Creates the naming for backups of one database file.</summary>
    public BackupNaming(string databasePath)
    {
        var fileName = Path.GetFileName(databasePath);
        Stem = Path.GetFileNameWithoutExtension(fileName);
        Extension = Path.GetExtension(fileName);
        _pattern = new Regex($"^{Regex.Escape(Stem)}_backup_(?<stamp>\\d{{8}}_\\d{{6}})(?:_(?<n>[2-9]|[1-9]\\d+))?{Regex.Escape(Extension)}(?:\\.br)?$", RegexOptions.CultureInvariant);
    }

    /// <summary>The database file name without its extension, e.g. <c>database</c>.</summary>
    public string Stem { get; }

    /// <summary>The database file's extension with its dot, e.g. <c>.sqlite</c>, or empty.</summary>
    public string Extension { get; }

    /// <summary>An example name, for messages.</summary>
    public string Example => $"{Stem}_backup_20250114_103000{Extension}";

    /// <summary>The name for a backup taken at <paramref name="utc"/>; <paramref name="sequence"/> 1 has no suffix.</summary>
    public string NameFor(DateTimeOffset utc, int sequence) =>
        $"{Stem}_backup_{utc.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture)}{(sequence > 1 ? $"_{sequence.ToString(CultureInfo.InvariantCulture)}" : "")}{Extension}";

    /// <summary>The manifest's name for a backup name.</summary>
    public static string ManifestNameFor(string backupName) => backupName + ManifestSuffix;

    /// <summary>Parses a backup name into its UTC stamp and sequence; <see langword="false"/> for any other name.</summary>
    public bool TryParse(string fileName, out DateTimeOffset stamp, out int sequence)
    {
        stamp = default;
        sequence = 0;
        var match = _pattern.Match(fileName);
        if (!match.Success
            || !DateTime.TryParseExact(match.Groups["stamp"].Value, StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return false;
        }

        stamp = new DateTimeOffset(parsed, TimeSpan.Zero);
        sequence = match.Groups["n"].Success ? int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) : 1;
        return true;
    }

    /// <summary>Whether a name is a backup's name: a plain file name (no directory part) matching the pattern.</summary>
    public bool IsBackupName(string fileName) => TryParse(fileName, out _, out _);

    /// <summary>
    /// The first free name for a backup taken at <paramref name="utc"/>, without the compression suffix:
    /// a name is taken when the backup (compressed or not), its manifest or a temporary file of any of
    /// them exists.
    /// </summary>
    public string NextFreeName(string backupDirectory, DateTimeOffset utc)
    {
        for (var sequence = 1; ; sequence++)
        {
            var name = NameFor(utc, sequence);
            var path = Path.Combine(backupDirectory, name);
            string[] taken = [path, path + CompressedSuffix];
            if (!taken.Any(p => File.Exists(p) || File.Exists(p + TempSuffix) || File.Exists(p + ManifestSuffix) || File.Exists(p + ManifestSuffix + TempSuffix)))
            {
                return name;
            }
        }
    }

    /// <summary>Whether a backup's name says it is Brotli-compressed.</summary>
    public static bool IsCompressed(string fileName) => fileName.EndsWith(CompressedSuffix, StringComparison.Ordinal);

    /// <summary>
    /// Whether a file in the backup directory is left over from an interrupted write of this project's own:
    /// <c>NAME.tmp</c> (and SQLite's side files of one) where NAME is a backup's or a manifest's name, or
    /// one of <paramref name="recordNames"/>. Any other <c>*.tmp</c> belongs to someone else and is never deleted.
    /// </summary>
    public bool IsTempFile(string fileName, IEnumerable<string>? recordNames = null)
    {
        var name = fileName;
        foreach (var suffix in SqliteFiles.SideFileSuffixes)
        {
            if (name.EndsWith(TempSuffix + suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        if (!name.EndsWith(TempSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var written = name[..^TempSuffix.Length];
        var backupName = written.EndsWith(ManifestSuffix, StringComparison.Ordinal) ? written[..^ManifestSuffix.Length] : written;
        return IsBackupName(backupName) || (recordNames ?? RecordNames).Contains(written, StringComparer.Ordinal);
    }

    /// <summary>The records this project keeps in the backup directory (written through <c>NAME.tmp</c>).</summary>
    public static IReadOnlyList<string> RecordNames { get; } =
        [BackupActivity.FileName, OffsiteActivity.StateFileName, OffsiteActivity.DrillFileName, IntegrityRecord.FileName];
}
