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
        var configured = Targets(settings.Offsite);
        var targets = configured.Select(t => CheckTarget(backupDirectory, now, t.Kind, t.Name, configured.Count > 1, latestLocal, interval, findings)).ToList();
        var container = settings.Offsite.TargetName!;

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

        // The fields of one target stay where scripts read them; with two, they say the worst of both.
        var oldest = targets.Where(t => t.LastUpload is not null).MinBy(t => t.LastUploadAgeSeconds is { } age ? -age : long.MinValue);
        var report = new OffsiteReport
        {
            Container = container,
            LastUpload = targets.Any(t => t.LastUpload is null) ? null : oldest?.LastUpload,
            LastUploadAt = targets.Any(t => t.LastUpload is null) ? null : oldest?.LastUploadAt,
            LastUploadAgeSeconds = targets.Any(t => t.LastUpload is null) ? null : oldest?.LastUploadAgeSeconds,
            Count = targets.Any(t => t.Count is null) ? null : targets.Min(t => t.Count),
            LastError = targets.Count == 1 ? targets[0].LastError : targets.FirstOrDefault(t => t.LastError is not null) is { } failing ? $"{failing.Kind} {failing.Container}: {failing.LastError}" : null,
            Drill = drill,
            Targets = targets,
        };
        return new Checked<OffsiteReport?>(report, findings);
    }

    /// <summary>The configured targets, in the order uploads go to them: Azure, then S3.</summary>
    public static IReadOnlyList<(string Kind, string Name)> Targets(OffsiteOptions offsite)
    {
        ArgumentNullException.ThrowIfNull(offsite);
        var targets = new List<(string, string)>();
        if (offsite.AzureEnabled)
        {
            targets.Add((OffsiteActivity.AzureKind, offsite.Container!));
        }

        if (offsite.S3.Enabled)
        {
            targets.Add(("s3", offsite.S3.Bucket + (offsite.S3.Prefix.Length == 0 ? "" : "/" + offsite.S3.Prefix.TrimEnd('/'))));
        }

        return targets;
    }

    private OffsiteTargetReport CheckTarget(string backupDirectory, DateTimeOffset now, string kind, string name, bool several, BackupManifest? latestLocal, TimeSpan interval, List<HealthFinding> findings)
    {
        var where = kind == "s3" ? $"bucket {name}" : $"container {name}";
        var state = offsite.StateFor(backupDirectory, kind);
        var upload = state?.LastUpload;
        if (state?.LastError is { } error)
        {
            var to = several ? $" to the {where}" : "";
            findings.Add(HealthFinding.Degraded($"Copying backups off the volume{to} failed at {UtcSecondsConverter.Format(error.At)}: {error.Message}"));
        }
        else if (upload is null && latestLocal is not null)
        {
            findings.Add(HealthFinding.Degraded($"No backup has been copied to the off-volume {where} yet."));
        }
        else if (upload is not null && BackupStaleness.IsStale(upload.Timestamp, now, interval))
        {
            findings.Add(HealthFinding.Degraded($"The newest backup in the off-volume {where}, {upload.Name}, is {Durations.Describe(now - upload.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals."));
        }

        return new OffsiteTargetReport
        {
            Kind = kind,
            Container = name,
            LastUpload = upload?.Name,
            LastUploadAt = upload?.At,
            LastUploadAgeSeconds = upload is null ? null : (long)(now - upload.Timestamp).TotalSeconds,
            Count = state?.Count,
            LastError = state?.LastError?.Message,
        };
    }
}
