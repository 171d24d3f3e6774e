using Emergence.Persistence.Configuration;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Database;

/// <summary>
/// Decides where the database lives: the configured path when its directory can be created and
/// written, otherwise, loudly, the fallback directory.
/// </summary>
public sealed class DatabaseLocator(IOptions<PersistenceOptions> options, VolumeInspector inspector, ILogger<DatabaseLocator> logger)
{
    /// <summary>
    /// Resolves the location, creating the database directory when missing. Logs an error naming the
    /// path, owner, mode and OS error when the configured directory is unusable, and another when the
    /// fallback is taken.
    /// </summary>
    public DatabaseLocation Resolve()
    {
        var settings = options.Value;
        var configured = settings.DatabasePath;
        var directory = Path.GetDirectoryName(configured)!;
        var existed = Directory.Exists(directory);
        var volume = inspector.Inspect(directory, configured, create: true);
        if (!existed && Directory.Exists(directory))
        {
            PersistenceLog.VolumeDirectoryCreated(logger, directory);
        }

        if (volume.Writable)
        {
            return new DatabaseLocation
            {
                DatabasePath = configured,
                BackupDirectory = settings.BackupDirectoryFor(configured),
                ConfiguredDatabasePath = configured,
                Volume = volume,
            };
        }

        LogVolumeProblem(logger, volume, volume.Error ?? "not writable");
        var fallbackPath = Path.Combine(settings.FallbackDirectory, Path.GetFileName(configured));
        var fallbackVolume = inspector.Inspect(settings.FallbackDirectory, fallbackPath, create: true);
        var reason = volume.Error ?? "the directory is not writable";
        if (!fallbackVolume.Writable)
        {
            LogVolumeProblem(logger, fallbackVolume, fallbackVolume.Error ?? "not writable");
            return new DatabaseLocation
            {
                DatabasePath = configured,
                BackupDirectory = settings.BackupDirectoryFor(configured),
                ConfiguredDatabasePath = configured,
                Volume = volume,
            };
        }

        PersistenceLog.FallbackInUse(logger, directory, settings.FallbackDirectory, reason);
        return new DatabaseLocation
        {
            DatabasePath = fallbackPath,
            BackupDirectory = settings.BackupDirectory ?? Path.Combine(settings.FallbackDirectory, "backups"),
            ConfiguredDatabasePath = configured,
            IsFallback = true,
            FallbackReason = reason,
            Volume = fallbackVolume,
        };
    }

    /// <summary>
    /// The configured location as it stands, without creating, probing-for-fallback or logging: for
    /// reports made before startup has resolved the real location.
    /// </summary>
    public DatabaseLocation Configured()
    {
        var settings = options.Value;
        var path = settings.DatabasePath;
        return new DatabaseLocation
        {
            DatabasePath = path,
            BackupDirectory = settings.BackupDirectoryFor(path),
            ConfiguredDatabasePath = path,
            Volume = inspector.Inspect(Path.GetDirectoryName(path)!, path, create: false),
        };
    }

    /// <summary>Logs a volume failure with everything an operator needs to fix it.</summary>
    public static void LogVolumeProblem(ILogger logger, VolumeStatus volume, string problem)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var d = volume.Diagnostics;
        PersistenceLog.VolumeProblem(logger, volume.Path, problem, d?.ProcessUid, d?.ProcessGid, d?.OwnerUid, d?.OwnerGid, d?.Mode,
            volume.Filesystem, volume.MountPoint, volume.Error);
    }
}
