using Emergence.Persistence.Backups;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Health;

/// <summary>The health report: the body of <c>GET /api/health</c> and <c>emergence-db status --json</c>.</summary>
public sealed record HealthReport
{
    /// <summary>The verdict.</summary>
    public required HealthStatus Status { get; init; }

    /// <summary>When the report was made (UTC).</summary>
    public required DateTimeOffset CheckedAt { get; init; }

    /// <summary>The database directory's volume.</summary>
    public required VolumeStatus Volume { get; init; }

    /// <summary>The database file.</summary>
    public required DatabaseReport Database { get; init; }

    /// <summary>The backups.</summary>
    public required BackupsReport Backups { get; init; }

    /// <summary>One plain sentence per thing that is wrong.</summary>
    public required IReadOnlyList<string> Problems { get; init; }
}

/// <summary>The <c>database</c> object of the health report.</summary>
public sealed record DatabaseReport
{
    /// <summary>The database file in use.</summary>
    public required string Path { get; init; }

    /// <summary>Whether it is on a mounted volume (and the one Railway announced, when it announced one).</summary>
    public required bool OnVolume { get; init; }

    /// <summary>Whether the fallback directory is in use.</summary>
    public required bool Fallback { get; init; }

    /// <summary>The configured database file.</summary>
    public required string ConfiguredPath { get; init; }

    /// <summary>Whether the file exists.</summary>
    public required bool Exists { get; init; }

    /// <summary>Its size in bytes, with its WAL.</summary>
    public required long Size { get; init; }

    /// <summary>The SQLite version in use.</summary>
    public required string SqliteVersion { get; init; }

    /// <summary>The schema version, when the database could be read.</summary>
    public int? UserVersion { get; init; }
}

/// <summary>The <c>backups</c> object of the health report.</summary>
public sealed record BackupsReport
{
    /// <summary>The backup directory.</summary>
    public required string Directory { get; init; }

    /// <summary>Verified backups present.</summary>
    public required int Count { get; init; }

    /// <summary>The newest verified backup's manifest.</summary>
    public BackupManifest? Latest { get; init; }

    /// <summary>Seconds since the newest verified backup was taken.</summary>
    public long? LatestAgeSeconds { get; init; }

    /// <summary>When the schedule next runs a backup.</summary>
    public DateTimeOffset? NextDue { get; init; }

    /// <summary>The last backup failure of this process, when the last attempt failed.</summary>
    public string? LastError { get; init; }
}
