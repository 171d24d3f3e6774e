namespace Emergence.Persistence.Backups;

/// <summary>How much free space a backup needs.</summary>
public static class BackupSpace
{
    /// <summary>Headroom for the copy's own growth and its manifest: 10% of the database, at least 4 MiB.</summary>
    public const long MinimumMarginBytes = 4L << 20;

    /// <summary>Bytes a backup of a database of <paramref name="databaseBytes"/> (file plus WAL) needs free.</summary>
    public static long Required(long databaseBytes) => databaseBytes + Math.Max(databaseBytes / 10, MinimumMarginBytes);

    /// <summary>The size of a database on disk: the file plus its WAL, read from directory entries (the file is not opened).</summary>
    public static long DatabaseBytes(string databasePath)
    {
        var file = new FileInfo(databasePath);
        var wal = new FileInfo(databasePath + "-wal");
        return (file.Exists ? file.Length : 0) + (wal.Exists ? wal.Length : 0);
    }
}
