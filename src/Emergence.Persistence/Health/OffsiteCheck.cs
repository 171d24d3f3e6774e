using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Health;

/// <summary>The off-volume copies, when configured: the last upload run did not fail, the newest copy is fresh, the last drill passed. Every finding is degraded.</summary>
public sealed class OffsiteCheck(OffsiteActivity offsite)
{
    /// <summary>Checks the records of upload runs and drills; the section is <see langword="null"/> when no container is configured.</summary>
    public Checked<OffsiteReport?> Check(string backupDirectory, DateTimeOffset now, PersistenceOptions settings, BackupManifest? latestLocal, BackupSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(schedule);
        if (!settings.Offsite.Enabled)
        {
            return new Checked<OffsiteReport?>(null, []);
        }

        var findings = new List<HealthFinding>();
        var interval = schedule.LongestIntervalAfter(now);
        var container = settings.Offsite.TargetName!;
        var state = offsite.StateFor(backupDirectory);
        var upload = state?.LastUpload;
        if (state?.LastError is { } error)
        {
            findings.Add(HealthFinding.Degraded($"Copying backups off the volume failed at {UtcSecondsConverter.Format(error.At)}: {error.Message}"));
        }
        else if (upload is null && latestLocal is not null)
        {
            findings.Add(HealthFinding.Degraded($"No backup has been copied to the off-volume container {container} yet."));
        }
        else if (upload is not null && BackupStaleness.IsStale(upload.Timestamp, now, interval))
        {
            findings.Add(HealthFinding.Degraded($"The newest off-volume backup, {upload.Name}, is {Durations.Describe(now - upload.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals."));
        }

        DrillReport? drill = null;
        if (offsite.DrillFor(backupDirectory) is { } last)
        {
            if (!last.Ok)
            {
                findings.Add(HealthFinding.Degraded($"The last restore drill, at {UtcSecondsConverter.Format(last.At)}, failed: {last.Problem}"));
            }

            drill = new DrillReport
            {
                At = last.At,
                AgeSeconds = (long)(now - last.At).TotalSeconds,
                Ok = last.Ok,
                Backup = last.Backup,
                BackupAgeSeconds = last.BackupTimestamp is { } taken ? (long)(last.At - taken).TotalSeconds : null,
                RestoredTo = last.RestoredTo,
                PointAgeSeconds = last.RestoredTo is { } point ? (long)(last.At - point).TotalSeconds : null,
                Segments = last.Segments,
                Problem = last.Problem,
                NextDue = BackupSchedule.Parse(settings.DrillSchedule).NextAfter(now),
            };
        }

        var report = new OffsiteReport
        {
            Container = container,
            LastUpload = upload?.Name,
            LastUploadAt = upload?.At,
            LastUploadAgeSeconds = upload is null ? null : (long)(now - upload.Timestamp).TotalSeconds,
            Count = state?.Count,
            LastError = state?.LastError?.Message,
            Drill = drill,
        };
        return new Checked<OffsiteReport?>(report, findings);
    }
}
