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
    /// fallback is taken. The fallback is taken only while no volume is required.
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
            return AtConfiguredPath(volume);
        }

        var reason = volume.Error ?? "the directory is not writable";
        LogVolumeProblem(logger, volume, reason);
        if (settings.RequireVolume)
        {
            // With a volume required, data never goes anywhere else: the fallback is for local runs only.
            return AtConfiguredPath(volume);
        }

        var fallbackPath = Path.Combine(settings.FallbackDirectory, Path.GetFileName(configured));
        var fallbackVolume = inspector.Inspect(settings.FallbackDirectory, fallbackPath, create: true);
        if (!fallbackVolume.Writable)
        {
            LogVolumeProblem(logger, fallbackVolume, fallbackVolume.Error ?? "the directory is not writable");
            return AtConfiguredPath(volume);
        }

        PersistenceLog.FallbackInUse(logger, directory, settings.FallbackDirectory, reason);
        return new DatabaseLocation
        {
            DatabasePath = fallbackPath,
            BackupDirectory = settings.BackupDirectoryFor(fallbackPath),
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
        var path = options.Value.DatabasePath;
        return AtConfiguredPath(inspector.Inspect(Path.GetDirectoryName(path)!, path, create: false));
    }

    private DatabaseLocation AtConfiguredPath(VolumeStatus volume)
    {
        var settings = options.Value;
        return new DatabaseLocation
        {
            DatabasePath = settings.DatabasePath,
            BackupDirectory = settings.BackupDirectoryFor(settings.DatabasePath),
            ConfiguredDatabasePath = settings.DatabasePath,
            Volume = volume,
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
