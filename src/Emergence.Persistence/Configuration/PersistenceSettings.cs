using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Emergence.Persistence.Configuration;

/// <summary>
/// Reads and checks the settings. Each value is parsed by hand rather than by the configuration
/// binder so that a bad one is rejected with one line naming the setting, the value and what is
/// accepted, instead of a binder stack trace.
/// </summary>
public static class PersistenceSettings
{
    /// <summary>The setting naming the database file.</summary>
    public const string DatabasePathKey = "Persistence:DatabasePath";

    /// <summary>The setting naming the backup directory.</summary>
    public const string BackupDirectoryKey = "Persistence:BackupDirectory";

    /// <summary>The setting for the retention count.</summary>
    public const string KeepBackupsKey = "Persistence:KeepBackups";

    /// <summary>The setting for the daily retention tier.</summary>
    public const string KeepDailyKey = "Persistence:KeepDaily";

    /// <summary>The setting for the weekly retention tier.</summary>
    public const string KeepWeeklyKey = "Persistence:KeepWeekly";

    /// <summary>The setting that makes a missing volume unhealthy.</summary>
    public const string RequireVolumeKey = "Persistence:RequireVolume";

    /// <summary>The setting naming the fallback directory.</summary>
    public const string FallbackDirectoryKey = "Persistence:FallbackDirectory";

    /// <summary>The setting for the lock wait, in seconds.</summary>
    public const string LockTimeoutSecondsKey = "Persistence:LockTimeoutSeconds";

    /// <summary>The setting for how backups are stored.</summary>
    public const string CompressionKey = "Persistence:Compression";

    /// <summary>Whether the function app replicates the WAL.</summary>
    public const string ReplicationEnabledKey = "Persistence:Replication:Enabled";

    /// <summary>Seconds between reads of the log.</summary>
    public const string ReplicationIntervalKey = "Persistence:Replication:IntervalSeconds";

    /// <summary>Seconds of replication lag before health is degraded.</summary>
    public const string ReplicationMaxLagKey = "Persistence:Replication:MaxLagSeconds";

    /// <summary>Log bytes at which the replicator checkpoints.</summary>
    public const string ReplicationCheckpointBytesKey = "Persistence:Replication:CheckpointBytes";

    /// <summary>Days back a point can be restored to.</summary>
    public const string ReplicationRestoreWindowKey = "Persistence:Replication:RestoreWindowDays";

    /// <summary>Minutes back every replicated commit stays a point of its own.</summary>
    public const string ReplicationEveryCommitKey = "Persistence:Replication:EveryCommitMinutes";

    /// <summary>The backup timer's schedule, a top-level app setting the Functions host also reads.</summary>
    public const string BackupScheduleKey = "BACKUP_SCHEDULE";

    /// <summary>Binds every setting present in <paramref name="configuration"/> onto <paramref name="options"/>.</summary>
    /// <exception cref="InvalidSettingException">A value cannot be parsed or is out of range.</exception>
    public static void Bind(IConfiguration configuration, PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);

        if (Read(configuration, RequireVolumeKey) is { } require)
        {
            options.RequireVolume = bool.TryParse(require, out var parsed)
                ? parsed
                : throw new InvalidSettingException(EnvName(RequireVolumeKey), require, "expected true or false.");
        }

        if (Read(configuration, DatabasePathKey) is { } database)
        {
            options.DatabasePath = database;
        }

        options.BackupDirectory = Read(configuration, BackupDirectoryKey) ?? options.BackupDirectory;

        if (Read(configuration, FallbackDirectoryKey) is { } fallback)
        {
            options.FallbackDirectory = fallback;
        }

        if (Read(configuration, KeepBackupsKey) is { } keep)
        {
            options.KeepBackups = int.TryParse(keep, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new InvalidSettingException(EnvName(KeepBackupsKey), keep, KeepBackupsAccepted);
        }

        options.KeepDaily = ReadCount(configuration, KeepDailyKey) ?? options.KeepDaily;
        options.KeepWeekly = ReadCount(configuration, KeepWeeklyKey) ?? options.KeepWeekly;

        if (Read(configuration, LockTimeoutSecondsKey) is { } timeout)
        {
            options.LockTimeout = int.TryParse(timeout, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
                ? TimeSpan.FromSeconds(seconds)
                : throw new InvalidSettingException(EnvName(LockTimeoutSecondsKey), timeout, "expected a whole number of seconds, 0 or more.");
        }

        if (Read(configuration, CompressionKey) is { } compression)
        {
            options.Compression = compression.ToLowerInvariant() switch
            {
                "none" => BackupCompression.None,
                "brotli" => BackupCompression.Brotli,
                _ => throw new InvalidSettingException(EnvName(CompressionKey), compression, "expected none or brotli."),
            };
        }

        options.BackupSchedule = Read(configuration, BackupScheduleKey) ?? options.BackupSchedule;
        BindReplication(configuration, options.Replication);
        OffsiteSettings.Bind(configuration, options);
        Normalize(options);
    }

    /// <summary>
    /// Makes paths absolute and checks every value; throws on the first bad one. Relative database and
    /// backup paths are resolved against the current directory, except when a volume is required,
    /// where only an absolute path can name it.
    /// </summary>
    /// <exception cref="InvalidSettingException">A value is out of range.</exception>
    public static void Normalize(PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.DatabasePath = ResolvePath(DatabasePathKey, options.DatabasePath, options.RequireVolume);
        if (options.DatabasePath.EndsWith('/') || Directory.Exists(options.DatabasePath))
        {
            throw new InvalidSettingException(EnvName(DatabasePathKey), options.DatabasePath, "expected the path of a database file, not a directory.");
        }

        if (options.BackupDirectory is not null)
        {
            options.BackupDirectory = ResolvePath(BackupDirectoryKey, options.BackupDirectory, options.RequireVolume);
        }

        if (!Path.IsPathFullyQualified(options.FallbackDirectory))
        {
            throw new InvalidSettingException(EnvName(FallbackDirectoryKey), options.FallbackDirectory, "expected an absolute directory path.");
        }

        if (options.KeepBackups is < PersistenceOptions.MinKeepBackups or > PersistenceOptions.MaxKeepBackups)
        {
            throw new InvalidSettingException(EnvName(KeepBackupsKey), options.KeepBackups.ToString(CultureInfo.InvariantCulture), KeepBackupsAccepted);
        }

        if (!BackupSchedule.TryParse(options.BackupSchedule, out _, out var error))
        {
            throw new InvalidSettingException(BackupScheduleKey, options.BackupSchedule, error!);
        }

        OffsiteSettings.Validate(options);
    }

    private static void BindReplication(IConfiguration configuration, ReplicationOptions replication)
    {
        if (Read(configuration, ReplicationEnabledKey) is { } enabled)
        {
            replication.Enabled = bool.TryParse(enabled, out var parsed)
                ? parsed
                : throw new InvalidSettingException(EnvName(ReplicationEnabledKey), enabled, "expected true or false.");
        }

        replication.Interval = ReadSeconds(configuration, ReplicationIntervalKey, 1, 60) ?? replication.Interval;
        replication.MaxLag = ReadSeconds(configuration, ReplicationMaxLagKey, 1, 86_400) ?? replication.MaxLag;
        if (Read(configuration, ReplicationCheckpointBytesKey) is { } bytes)
        {
            replication.CheckpointBytes = long.TryParse(bytes, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1L << 16 and <= 1L << 34
                ? n
                : throw new InvalidSettingException(EnvName(ReplicationCheckpointBytesKey), bytes, "expected a whole number of bytes from 65536 to 17179869184.");
        }

        if (Read(configuration, ReplicationRestoreWindowKey) is { } days)
        {
            replication.RestoreWindow = int.TryParse(days, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= ReplicationOptions.MaxRestoreWindowDays
                ? TimeSpan.FromDays(n)
                : throw new InvalidSettingException(EnvName(ReplicationRestoreWindowKey), days, $"expected a whole number of days from 1 to {ReplicationOptions.MaxRestoreWindowDays}.");
        }

        if (Read(configuration, ReplicationEveryCommitKey) is { } minutes)
        {
            replication.EveryCommit = int.TryParse(minutes, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1440
                ? TimeSpan.FromMinutes(n)
                : throw new InvalidSettingException(EnvName(ReplicationEveryCommitKey), minutes, "expected a whole number of minutes from 1 to 1440.");
        }
    }

    private static TimeSpan? ReadSeconds(IConfiguration configuration, string key, int min, int max) => Read(configuration, key) is not { } text
        ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? TimeSpan.FromSeconds(n)
            : throw new InvalidSettingException(EnvName(key), text, $"expected a whole number of seconds from {min} to {max}.");

    /// <summary>The environment-variable spelling of a configuration key: <c>Persistence__KeepBackups</c>.</summary>
    public static string EnvName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>What a retention count accepts, for its one-line error.</summary>
    internal const string KeepBackupsAccepted = "expected a whole number from 1 to 1000.";

    /// <summary>
    /// A setting's trimmed value, or <see langword="null"/> when it is unset. A setting that is set but blank
    /// is refused: taking the default for it would silently change where data goes or how much is kept.
    /// </summary>
    /// <exception cref="InvalidSettingException">The setting is empty or white space.</exception>
    internal static string? Read(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (value is null)
        {
            return null;
        }

        return string.IsNullOrWhiteSpace(value)
            ? throw new InvalidSettingException(EnvName(key), value, BlankAccepted)
            : value.Trim();
    }

    /// <summary>What a blank setting is told.</summary>
    internal const string BlankAccepted = "it is set but blank; give it a value, or remove it to use the default.";

    /// <summary>
    /// A setting's trimmed value, or <see langword="null"/> when it is unset or blank: for the off-volume
    /// connection settings, which platforms declare without a value until a secret is filled in.
    /// </summary>
    internal static string? ReadOptional(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>A whole number from 0 to <see cref="PersistenceOptions.MaxKeepBackups"/>, or <see langword="null"/> when unset.</summary>
    private static int? ReadCount(IConfiguration configuration, string key) => Read(configuration, key) is not { } text
        ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= PersistenceOptions.MaxKeepBackups
            ? n
            : throw new InvalidSettingException(EnvName(key), text, "expected a whole number from 0 to 1000.");

    private static string ResolvePath(string key, string value, bool requireAbsolute)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidSettingException(EnvName(key), value, "expected a file-system path.");
        }

        if (Path.IsPathFullyQualified(value))
        {
            return Path.GetFullPath(value);
        }

        return requireAbsolute
            ? throw new InvalidSettingException(EnvName(key), value, $"expected an absolute path while {EnvName(RequireVolumeKey)} is true (a relative path lands in the container's own layer).")
            : Path.GetFullPath(value);
    }
}
