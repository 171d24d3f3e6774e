using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Health;

/// <summary>
/// Re-inspects the database's volume and logs a warning when its state changes at run time: it
/// became unmounted, read-only, not writable, or too full for the next backup, or recovered.
/// </summary>
public sealed class VolumeWatch(VolumeInspector inspector, ILogger<VolumeWatch> logger)
{
    private readonly Lock _gate = new();
    private string? _lastState;

    /// <summary>Inspects the volume of <paramref name="location"/>; returns the state and whether it changed since the last call.</summary>
    public (VolumeStatus Status, bool Changed) Check(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var status = inspector.Inspect(location.DatabaseDirectory, location.DatabasePath, create: false);
        var state = Describe(status, BackupSpace.Required(BackupSpace.DatabaseBytes(location.DatabasePath)));
        string? previous;
        lock (_gate)
        {
            previous = _lastState;
            _lastState = state;
        }

        var changed = previous is not null && previous != state;
        if (changed)
        {
            PersistenceLog.VolumeStatusChanged(logger, status.Path, previous!, state);
        }

        return (status, changed);
    }

    /// <summary>The state compared between checks, in words: mount, writability and whether a backup still fits.</summary>
    public static string Describe(VolumeStatus status, long bytesNeededForBackup)
    {
        ArgumentNullException.ThrowIfNull(status);
        var mount = status.Mounted ? $"mounted ({status.Filesystem} at {status.MountPoint})" : $"not mounted ({status.Filesystem ?? "unknown"} at {status.MountPoint ?? "?"})";
        var access = status.ReadOnly ? "read-only" : status.Writable ? "writable" : "not writable";
        var space = status.SizeAvailable >= bytesNeededForBackup ? "space for a backup" : "low space";
        return $"{mount}, {access}, {space}";
    }
}
