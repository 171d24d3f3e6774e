using System.Text;
using System.Text.Json;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Backups;

/// <summary>Lists the backup directory: backups newest first with their manifests, and leftovers.</summary>
public static class BackupCatalog
{
    /// <summary>
    /// How far in the future of the scan a backup's timestamp may lie before it counts as written by a
    /// clock that was wrong: more than the clock drift of a healthy machine, less than any backup interval worth having.
    /// </summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Scans <paramref name="backupDirectory"/> for backups of the database at <paramref name="databasePath"/>,
    /// judging timestamps against <paramref name="now"/>: a backup stamped more than <see cref="FutureTolerance"/>
    /// after it sorts after every other one. Every caller passes its clock's now, so listings, restore and rotation
    /// order the same directory the same way. A missing directory holds nothing; a file that disappears while it is
    /// read (another process rotated it) is not there.
    /// </summary>
    public static BackupInventory Scan(string backupDirectory, string databasePath, DateTimeOffset now)
    {
        var naming = new BackupNaming(databasePath);
        var backups = new List<BackupEntry>();
        var temps = new List<string>();
        try
        {
            foreach (var file in new DirectoryInfo(backupDirectory).EnumerateFiles())
            {
                if (naming.IsTempFile(file.Name))
                {
                    temps.Add(file.FullName);
                }
                else if (naming.TryParse(file.Name, out var stamp, out var sequence) && Read(file, stamp, sequence, now) is { } entry)
                {
                    backups.Add(entry);
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            return new BackupInventory(backupDirectory, [], []);
        }

        backups.Sort(NewestFirst);
        return new BackupInventory(backupDirectory, backups, temps);
    }

    /// <summary>Reads and checks one manifest; returns it or why it is unusable.</summary>
    public static BackupManifest? ReadManifest(string manifestPath, string expectedFileName, out string? error)
    {
        byte[] bytes;
        try
        {
            bytes = RegularFile.ReadSmall(manifestPath);
        }
        catch (FileNotFoundException)
        {
            error = "it has no manifest (the backup never finished)";
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"its manifest cannot be read: {ex.Message}";
            return null;
        }

        return ParseManifest(Encoding.UTF8.GetString(bytes), expectedFileName, out error);
    }

    /// <summary>Parses and checks a manifest's JSON (from a file or a blob); returns it or why it is unusable.</summary>
    public static BackupManifest? ParseManifest(string json, string expectedFileName, out string? error)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<BackupManifest>(json, PersistenceJson.Options);
            if (manifest is null)
            {
                error = "its manifest is empty";
                return null;
            }

            if (!string.Equals(manifest.Filename, expectedFileName, StringComparison.Ordinal))
            {
                error = $"its manifest names a different file ('{Printable.Escape(manifest.Filename)}')";
                return null;
            }

            if (manifest.Checksum.Length != 64 || !manifest.Checksum.All(char.IsAsciiHexDigitLower))
            {
                error = "its manifest checksum is not a lowercase hex SHA-256";
                return null;
            }

            error = null;
            return manifest;
        }
        catch (JsonException ex)
        {
            error = $"its manifest is not valid: {Printable.Escape(ex.Message)}";
            return null;
        }
    }

    /// <summary>
    /// The order backups are listed, restored and rotated in, newest first: backups from the future last, then
    /// by the order number in the manifest, then by timestamp, then by the sequence in the name.
    /// </summary>
    private static int NewestFirst(BackupEntry a, BackupEntry b)
    {
        var byFuture = a.IsFromTheFuture.CompareTo(b.IsFromTheFuture);
        return byFuture != 0 ? byFuture : (b.Order, b.TakenAt, b.Sequence).CompareTo((a.Order, a.TakenAt, a.Sequence));
    }

    private static BackupEntry? Read(FileInfo file, DateTimeOffset stamp, int sequence, DateTimeOffset now)
    {
        var special = RegularFile.NotRegular(file.FullName);
        if (special is null && !file.Exists)
        {
            return null; // rotated away since the directory was listed
        }

        string? error = null;
        var manifest = special is null ? ReadManifest(file.FullName + BackupNaming.ManifestSuffix, file.Name, out error) : null;
        if (special is not null)
        {
            error = $"it is {special}, not a backup file";
        }
        else if (manifest is null && !File.Exists(file.FullName))
        {
            return null; // its manifest and then the file went while they were read
        }

        return new BackupEntry
        {
            Name = file.Name,
            Path = file.FullName,
            Stamp = stamp,
            Sequence = sequence,
            Size = special is null ? file.Length : 0,
            Manifest = manifest,
            ManifestError = error,
            IsSpecial = special is not null,
            IsFromTheFuture = manifest is not null && manifest.Timestamp > now + FutureTolerance,
        };
    }
}
