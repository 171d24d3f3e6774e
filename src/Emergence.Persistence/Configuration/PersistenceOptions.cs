namespace Emergence.Persistence.Configuration;

/// <summary>
/// Where the database and its backups live and how they are kept. Bound from the
/// <c>Persistence__*</c> settings and <c>BACKUP_SCHEDULE</c> by <see cref="PersistenceSettings"/>.
/// </summary>
public sealed class PersistenceOptions
{
    /// <summary>The configuration section: settings are named <c>Persistence__Name</c>.</summary>
    public const string SectionName = "Persistence";

    /// <summary>The database path when none is set: <c>data/database.sqlite</c> under the current directory.</summary>
    public const string DefaultRelativeDatabasePath = "data/database.sqlite";

    /// <summary>Backups kept by rotation when not set: enough for a few redeploys and a day of hourly runs to overlap.</summary>
    public const int DefaultKeepBackups = 5;

    /// <summary>Days for which rotation keeps the newest backup of each day by default: a week of dailies.</summary>
    public const int DefaultKeepDaily = 7;

    /// <summary>Weeks for which rotation keeps the newest backup of each week by default: about a month of weeklies.</summary>
    public const int DefaultKeepWeekly = 4;

    /// <summary>The smallest accepted retention: rotation must never delete the only backup.</summary>
    public const int MinKeepBackups = 1;

    /// <summary>The largest accepted retention: beyond it, listing and sweeping the directory get slow.</summary>
    public const int MaxKeepBackups = 1000;

    /// <summary>Hourly, at minute 0: the default NCRONTAB schedule (6 fields, with seconds).</summary>
    public const string DefaultBackupSchedule = "0 0 * * * *";

    /// <summary>How long to wait for the volume lock by default: Railway's own Postgres template waits 300 s.</summary>
    public const int DefaultLockTimeoutSeconds = 300;

    /// <summary>The SQLite database file (absolute after binding).</summary>
    public string DatabasePath { get; set; } = Path.GetFullPath(DefaultRelativeDatabasePath);

    /// <summary>Where backups and manifests live; <see langword="null"/> means <c>backups/</c> beside the database.</summary>
    public string? BackupDirectory { get; set; }

    /// <summary>How many verified backups of distinct content rotation keeps (the first tier).</summary>
    public int KeepBackups { get; set; } = DefaultKeepBackups;

    /// <summary>For how many days (that have a backup) rotation also keeps each day's newest backup.</summary>
    public int KeepDaily { get; set; } = DefaultKeepDaily;

    /// <summary>For how many weeks (that have a backup) rotation also keeps each week's newest backup.</summary>
    public int KeepWeekly { get; set; } = DefaultKeepWeekly;

    /// <summary>The retention tiers in effect.</summary>
    public RetentionRules Retention => new(KeepBackups, KeepDaily, KeepWeekly);

    /// <summary>Whether a database that is not on a mounted, writable volume makes the app unhealthy.</summary>
    public bool RequireVolume { get; set; }

    /// <summary>Where the database goes, loudly, when its configured directory cannot be created or written.</summary>
    public string FallbackDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "emergence-fallback");

    /// <summary>The backup timer's NCRONTAB schedule, from <c>BACKUP_SCHEDULE</c>.</summary>
    public string BackupSchedule { get; set; } = DefaultBackupSchedule;

    /// <summary>How new backups are stored: as database files (the default) or Brotli-compressed.</summary>
    public BackupCompression Compression { get; set; }

    /// <summary>The restore drill timer's NCRONTAB schedule, from <c>DRILL_SCHEDULE</c>.</summary>
    public string DrillSchedule { get; set; } = OffsiteSettings.DefaultDrillSchedule;

    /// <summary>Off-volume copies of the backups (Azure Blob Storage); off unless configured.</summary>
    public OffsiteOptions Offsite { get; } = new();

    /// <summary>Continuous WAL replication.</summary>
    public ReplicationOptions Replication { get; } = new();

    /// <summary>How long to wait for another process to release the volume lock.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(DefaultLockTimeoutSeconds);

    /// <summary>The backup directory in effect for a database path: the configured one, else <c>backups/</c> beside the database.</summary>
    public string BackupDirectoryFor(string databasePath) =>
        BackupDirectory ?? Path.Combine(Path.GetDirectoryName(databasePath) ?? ".", "backups");
}
