using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Database;

/// <summary>Where the database and its backups are, once settings and the fallback rule have been applied.</summary>
public sealed record DatabaseLocation
{
    /// <summary>The database file in use.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>The backup directory in use.</summary>
    public required string BackupDirectory { get; init; }

    /// <summary>The database file the settings asked for.</summary>
    public required string ConfiguredDatabasePath { get; init; }

    /// <summary>Whether the fallback directory is in use instead of the configured one.</summary>
    public bool IsFallback { get; init; }

    /// <summary>Why the configured directory could not be used, when it could not.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The volume inspection of the directory in use, taken while resolving.</summary>
    public required VolumeStatus Volume { get; init; }

    /// <summary>The directory holding the database.</summary>
    public string DatabaseDirectory => Path.GetDirectoryName(DatabasePath)!;

    /// <summary>The volume lock file, in the database directory.</summary>
    public string LockPath => Path.Combine(DatabaseDirectory, VolumeLock.FileName);
}
