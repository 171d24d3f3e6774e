using System.Text.Json;

namespace Emergence.Persistence.Backups;

/// <summary>Lists the backup directory: backups newest first with their manifests, and leftovers.</summary>
public static class BackupCatalog
{
    /// <summary>Scans <paramref name="backupDirectory"/> for backups of the database at <paramref name="databasePath"/>. A missing directory holds nothing.</summary>
    public static BackupInventory Scan(string backupDirectory, string databasePath)
    {
        var naming = new BackupNaming(databasePath);
        if (!Directory.Exists(backupDirectory))
        {
            return new BackupInventory(backupDirectory, [], []);
        }

        var backups = new List<BackupEntry>();
        var temps = new List<string>();
        foreach (var file in new DirectoryInfo(backupDirectory).EnumerateFiles())
        {
            if (BackupNaming.IsTempFile(file.Name))
            {
                temps.Add(file.FullName);
            }
            else if (naming.TryParse(file.Name, out var stamp, out var sequence))
            {
                backups.Add(Read(file, stamp, sequence));
            }
        }

        backups.Sort((a, b) => (b.Stamp, b.Sequence).CompareTo((a.Stamp, a.Sequence)));
        return new BackupInventory(backupDirectory, backups, temps);
    }

    /// <summary>Reads and checks one manifest; returns it or why it is unusable.</summary>
    public static BackupManifest? ReadManifest(string manifestPath, string expectedFileName, out string? error)
    {
        if (!File.Exists(manifestPath))
        {
            error = "it has no manifest (the backup never finished)";
            return null;
        }

        try
        {
            return ParseManifest(File.ReadAllText(manifestPath), expectedFileName, out error);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"its manifest cannot be read: {ex.Message}";
            return null;
        }
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
                error = $"its manifest names a different file ('{manifest.Filename}')";
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
            error = $"its manifest is not valid: {ex.Message}";
            return null;
        }
    }

    private static BackupEntry Read(FileInfo file, DateTimeOffset stamp, int sequence)
    {
        var isLink = file.LinkTarget is not null;
        string? error = null;
        var manifest = isLink ? null : ReadManifest(file.FullName + BackupNaming.ManifestSuffix, file.Name, out error);
        if (isLink)
        {
            error = $"it is a symbolic link (to '{file.LinkTarget}'), not a backup file";
        }

        return new BackupEntry
        {
            Name = file.Name,
            Path = file.FullName,
            Stamp = stamp,
            Sequence = sequence,
            Size = isLink ? 0 : file.Length,
            Manifest = manifest,
            ManifestError = error,
            IsLink = isLink,
        };
    }
}
