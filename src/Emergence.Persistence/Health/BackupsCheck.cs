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

        var interval = schedule.LongestIntervalAfter(now);
        if (latest is null)
        {
            findings.Add(HealthFinding.Degraded($"No verified backup exists yet in {location.BackupDirectory}."));
        }
        else if (BackupStaleness.IsStale(latest.Timestamp, now, interval))
        {
            findings.Add(HealthFinding.Degraded($"The newest backup, {latest.Filename}, is {Durations.Describe(now - latest.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals ({Durations.Describe(interval)} each)."));
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
}
