using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Health;

/// <summary>The backups on the volume: one exists, it is fresh for the schedule, not suspect, none is from the future, the last attempt did not fail. Every finding is degraded.</summary>
public sealed class BackupsCheck(BackupActivity activity)
{
    /// <summary>Checks the backup directory's scan; the off-volume section is left to <see cref="OffsiteCheck"/>.</summary>
    public Checked<BackupsReport> Check(DatabaseLocation location, BackupInventory inventory, DateTimeOffset now, BackupSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(schedule);
        var findings = new List<HealthFinding>();
        var verified = inventory.Verified;
        var latest = inventory.Newest?.Manifest;
        foreach (var future in inventory.FromTheFuture)
        {
            findings.Add(HealthFinding.Degraded($"The backup {future.Name} is stamped {UtcSecondsConverter.Format(future.TakenAt)}, {Durations.Describe(future.TakenAt - now)} in the future: the clock that wrote it was wrong, so it is never taken as the newest backup and rotation removes it first."));
        }

        if (verified.Count > 0 && verified[0] is { IsSuspect: true } suspect)
        {
            findings.Add(HealthFinding.Degraded($"The newest backup, {suspect.Name}, is suspect: {suspect.Manifest!.Suspect}."));
        }

        // A manifest that cannot be read (an I/O error, a permission) is not a backup that never finished: name the error.
        var unreadable = inventory.Backups.Where(b => b.ManifestError?.StartsWith("its manifest cannot be read", StringComparison.Ordinal) == true).ToList();
        foreach (var backup in unreadable)
        {
            findings.Add(HealthFinding.Degraded($"The backup {backup.Name} cannot be read: {backup.ManifestError}."));
        }

        var interval = schedule.LongestIntervalAfter(now);
        if (latest is null)
        {
            findings.Add(HealthFinding.Degraded(unreadable.Count > 0
                ? $"No backup in {location.BackupDirectory} can be read: the volume reports an error (see the sentences about each backup)."
                : $"No verified backup exists yet in {location.BackupDirectory}."));
        }
        else if (BackupStaleness.IsStale(latest.Timestamp, now, interval))
        {
            findings.Add(HealthFinding.Degraded($"The newest backup, {latest.Filename}, is {Durations.Describe(now - latest.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals ({Durations.Describe(interval)} each)."));
        }

        if (RoomForTheNextBackup(location) is { } room)
        {
            findings.Add(HealthFinding.Degraded(room));
        }

        var lastError = activity.LastErrorFor(location.BackupDirectory);
        if (lastError is { } error)
        {
            findings.Add(HealthFinding.Degraded($"The last backup, at {UtcSecondsConverter.Format(error.At)}, failed: {error.Message}"));
        }

        var report = new BackupsReport
        {
            Directory = location.BackupDirectory,
            Count = verified.Count,
            Latest = latest,
            LatestAgeSeconds = latest is null ? null : (long)(now - latest.Timestamp).TotalSeconds,
            NextDue = schedule.NextAfter(now),
            LastError = lastError?.Message,
        };
        return new Checked<BackupsReport>(report, findings);
    }

    /// <summary>
    /// Why the backup directory cannot take the next backup, when it cannot: it may be on another file system than the
    /// database (whose space and writability the volume check reports), and read-only or full there.
    /// </summary>
    private static string? RoomForTheNextBackup(DatabaseLocation location)
    {
        if (!Directory.Exists(location.BackupDirectory) || !File.Exists(location.DatabasePath)
            || Platform.NativeMethods.DeviceOf(location.BackupDirectory) == Platform.NativeMethods.DeviceOf(location.DatabaseDirectory))
        {
            return null; // on the database's own file system, the volume check reports the space
        }

        if (!Volumes.VolumeInspector.CanWrite(location.BackupDirectory, out var error))
        {
            return $"The backup directory {location.BackupDirectory} cannot be written ({error}): the next backup will fail until it can.";
        }

        var needed = BackupSpace.Required(BackupSpace.DatabaseBytes(location.DatabasePath));
        var (available, total) = Volumes.VolumeInspector.ReadSpace(location.BackupDirectory);
        return total > 0 && available < needed
            ? $"The backup directory {location.BackupDirectory} has {available} bytes free, and the next backup needs about {needed}: it will fail until space is freed."
            : null;
    }
}
