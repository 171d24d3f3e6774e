using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Health;

/// <summary>
/// Builds the health report from the volume, the database and the backups. It never throws and
/// never creates the database file: everything that goes wrong becomes a problem sentence.
/// </summary>
public sealed class HealthReporter(
    IOptions<PersistenceOptions> options,
    VolumeInspector inspector,
    SqliteConnectionFactory connections,
    BackupActivity activity,
    OffsiteActivity offsite,
    IntegrityRecord integrity,
    TimeProvider time)
{
    /// <summary>
    /// Reports on the database at <paramref name="location"/>. <paramref name="startupFailure"/> is a sentence
    /// when startup failed. With <paramref name="freshIntegrityCheck"/>, the live database gets a
    /// <c>quick_check</c> now (an operator asking wants the truth); otherwise the last recorded check is reported.
    /// </summary>
    public HealthReport Check(DatabaseLocation location, string? startupFailure = null, bool freshIntegrityCheck = false)
    {
        ArgumentNullException.ThrowIfNull(location);
        var now = time.GetUtcNow();
        try
        {
            return CheckCore(location, startupFailure, now, freshIntegrityCheck);
        }
        catch (Exception ex)
        {
            return Failed(location, now, $"The health check itself failed: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }
    }

    /// <summary>An unhealthy report that touches no file: for a check that failed or did not finish in time.</summary>
    public static HealthReport Failed(DatabaseLocation location, DateTimeOffset now, string sentence)
    {
        ArgumentNullException.ThrowIfNull(location);
        return new HealthReport
        {
            Status = HealthStatus.Unhealthy,
            CheckedAt = now,
            Volume = location.Volume,
            Database = new DatabaseReport
            {
                Path = location.DatabasePath,
                OnVolume = false,
                Fallback = location.IsFallback,
                ConfiguredPath = location.ConfiguredDatabasePath,
                Exists = false,
                Size = 0,
                SqliteVersion = SqliteRuntime.Version,
            },
            Backups = new BackupsReport { Directory = location.BackupDirectory, Count = 0 },
            Problems = [sentence],
        };
    }

    private HealthReport CheckCore(DatabaseLocation location, string? startupFailure, DateTimeOffset now, bool freshIntegrityCheck)
    {
        var settings = options.Value;
        var problems = new List<string>();
        var unhealthy = false;
        void Unhealthy(string sentence)
        {
            unhealthy = true;
            problems.Add(sentence);
        }

        if (startupFailure is not null)
        {
            Unhealthy(startupFailure);
        }

        // The volume is always the configured one, also while the app runs from the fallback directory: an
        // operator needs to see what is wrong with the volume, not that /tmp is fine.
        var volume = inspector.Inspect(Path.GetDirectoryName(location.ConfiguredDatabasePath)!, location.ConfiguredDatabasePath, create: false);
        var onVolume = !location.IsFallback && volume.Mounted && volume.MatchesExpectedMount;
        foreach (var sentence in VolumeRequirement.Problems(volume, settings.RequireVolume, notWritableIsAProblem: !location.IsFallback))
        {
            Unhealthy(sentence);
        }

        if (location.IsFallback)
        {
            var sentence = $"The database is in the fallback directory {location.DatabaseDirectory} because {Path.GetDirectoryName(location.ConfiguredDatabasePath)} cannot be used: {location.FallbackReason}.";
            if (settings.RequireVolume)
            {
                Unhealthy(sentence);
            }
            else
            {
                problems.Add(sentence);
            }
        }

        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now);
        var database = ReportDatabase(location, onVolume, inventory, freshIntegrityCheck, now, Unhealthy);
        var failedRequest = RestoreRequest.Read(RestoreRequest.FailedPathFor(location.DatabaseDirectory));
        if (failedRequest is not null)
        {
            problems.Add($"A requested restore of {(failedRequest.Backup.Length == 0 ? "a backup" : failedRequest.Backup)} failed and will not be retried: {failedRequest.Error}. Delete {RestoreRequest.FailedPathFor(location.DatabaseDirectory)} once handled.");
        }

        var backups = ReportBackups(location, inventory, now, settings, problems);
        var needed = BackupSpace.Required(database.Size);
        if (database.Exists && volume.SizeAvailable > 0 && volume.SizeAvailable < needed)
        {
            problems.Add($"Only {volume.SizeAvailable} bytes are free on the volume; the next backup needs about {needed}.");
        }

        return new HealthReport
        {
            Status = unhealthy ? HealthStatus.Unhealthy : problems.Count > 0 ? HealthStatus.Degraded : HealthStatus.Healthy,
            CheckedAt = now,
            Volume = volume,
            Database = database,
            Backups = backups,
            Problems = problems,
        };
    }

    private DatabaseReport ReportDatabase(DatabaseLocation location, bool onVolume, BackupInventory inventory, bool freshIntegrityCheck, DateTimeOffset now, Action<string> unhealthy)
    {
        var path = location.DatabasePath;
        var exists = File.Exists(path);
        int? userVersion = null;
        IntegrityRecord.IntegrityResult? checkedIntegrity = null;
        var good = inventory.NewestGood;
        if (Platform.RegularFile.NotADatabaseFile(path) is { } special)
        {
            unhealthy($"The database path {path} is {special}, not a database file.");
        }
        else if (!exists)
        {
            unhealthy($"The database file {path} does not exist.");
        }
        else
        {
            try
            {
                using var connection = connections.OpenReadOnly(path);
                userVersion = (int)DatabaseInspector.Scalar(connection, "PRAGMA user_version");
                var schemaObjects = DatabaseInspector.Scalar(connection, "SELECT count(*) FROM sqlite_schema");
                if (ContentLoss.LostEveryTable(good?.Manifest, schemaObjects) is { } loss)
                {
                    unhealthy($"The database file {path} has lost its content: {loss}. {RestoreAdvice(good!.Name)}");
                }

                if (freshIntegrityCheck)
                {
                    var check = DatabaseInspector.Check(connection, IntegrityCheck.Quick).CheckResult;
                    checkedIntegrity = new IntegrityRecord.IntegrityResult(now, check, "status", path);
                }
            }
            catch (SqliteException ex)
            {
                unhealthy($"The database file {path} cannot be read: {ex.Message}");
                if (freshIntegrityCheck)
                {
                    checkedIntegrity = new IntegrityRecord.IntegrityResult(now, ex.Message, "status", path);
                }
            }
        }

        var last = checkedIntegrity ?? (exists ? integrity.LastFor(location.BackupDirectory, path) : null);
        if (last is { Ok: false })
        {
            unhealthy($"The database {path} failed its integrity check at {last.CheckedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} ({last.Source}): {Platform.Printable.Escape(last.Result)}. "
                + (good is null ? "There is no good backup to restore." : RestoreAdvice(good.Name)));
        }

        return new DatabaseReport
        {
            Path = path,
            OnVolume = onVolume,
            Fallback = location.IsFallback,
            ConfiguredPath = location.ConfiguredDatabasePath,
            Exists = exists,
            Size = BackupSpace.DatabaseBytes(path),
            SqliteVersion = SqliteRuntime.Version,
            UserVersion = userVersion,
            Integrity = last is null ? null : new IntegrityReport { CheckedAt = last.CheckedAt, Result = Platform.Printable.Escape(last.Result), Source = last.Source },
            FallbackReason = location.FallbackReason,
            LastRestore = RestoreRecord.LastFor(location.BackupDirectory, path) is { } restore
                ? new RestoreReport
                {
                    At = restore.RestoredAt,
                    AgeSeconds = Math.Max(0, (long)(now - restore.RestoredAt).TotalSeconds),
                    Backup = Platform.Printable.Escape(restore.Backup),
                    Reason = Platform.Printable.Escape(restore.Reason),
                    Quarantine = restore.Quarantine is null ? null : Platform.Printable.Escape(restore.Quarantine),
                }
                : null,
        };
    }

    /// <summary>How to put the newest good backup back, in the exact commands.</summary>
    private static string RestoreAdvice(string backup) =>
        $"The newest good backup is {backup}: restart the service (startup restores it), or run 'emergence-db restore --on-next-start {backup}' and restart; with the app stopped, 'emergence-db restore {backup} --force'.";

    private BackupsReport ReportBackups(DatabaseLocation location, BackupInventory inventory, DateTimeOffset now, PersistenceOptions settings, List<string> problems)
    {
        var verified = inventory.Verified;
        var latest = inventory.Newest?.Manifest;
        foreach (var future in inventory.FromTheFuture)
        {
            problems.Add($"The backup {future.Name} is stamped {future.TakenAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}, {Describe(future.TakenAt - now)} in the future: the clock that wrote it was wrong, so it is never taken as the newest backup and rotation removes it first.");
        }

        if (verified.Count > 0 && verified[0] is { IsSuspect: true } suspect)
        {
            problems.Add($"The newest backup, {suspect.Name}, is suspect: {suspect.Manifest!.Suspect}.");
        }

        var schedule = BackupSchedule.Parse(settings.BackupSchedule);
        var interval = schedule.LongestIntervalAfter(now);
        if (latest is null)
        {
            problems.Add($"No verified backup exists yet in {location.BackupDirectory}.");
        }
        else if (BackupStaleness.IsStale(latest.Timestamp, now, interval))
        {
            problems.Add($"The newest backup, {latest.Filename}, is {Describe(now - latest.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals ({Describe(interval)} each).");
        }

        var lastError = activity.LastErrorFor(location.BackupDirectory);
        if (lastError is { } error)
        {
            problems.Add($"The last backup, at {error.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}, failed: {error.Message}");
        }

        return new BackupsReport
        {
            Directory = location.BackupDirectory,
            Count = verified.Count,
            Latest = latest,
            LatestAgeSeconds = latest is null ? null : (long)(now - latest.Timestamp).TotalSeconds,
            NextDue = schedule.NextAfter(now),
            LastError = lastError?.Message,
            Offsite = ReportOffsite(location, now, settings, latest, interval, problems),
        };
    }

    private OffsiteReport? ReportOffsite(DatabaseLocation location, DateTimeOffset now, PersistenceOptions settings, BackupManifest? latestLocal, TimeSpan interval, List<string> problems)
    {
        if (!settings.Offsite.Enabled)
        {
            return null;
        }

        var container = settings.Offsite.Container!;
        var state = offsite.StateFor(location.BackupDirectory);
        var upload = state?.LastUpload;
        if (state?.LastError is { } error)
        {
            problems.Add($"Copying backups off the volume failed at {error.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}: {error.Message}");
        }
        else if (upload is null && latestLocal is not null)
        {
            problems.Add($"No backup has been copied to the off-volume container {container} yet.");
        }
        else if (upload is not null && BackupStaleness.IsStale(upload.Timestamp, now, interval))
        {
            problems.Add($"The newest off-volume backup, {upload.Name}, is {Describe(now - upload.Timestamp)} old: more than {BackupStaleness.AllowedIntervals} backup intervals.");
        }

        DrillReport? drill = null;
        if (offsite.DrillFor(location.BackupDirectory) is { } last)
        {
            if (!last.Ok)
            {
                problems.Add($"The last restore drill, at {last.At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}, failed: {last.Problem}");
            }

            drill = new DrillReport
            {
                At = last.At,
                AgeSeconds = (long)(now - last.At).TotalSeconds,
                Ok = last.Ok,
                Backup = last.Backup,
                BackupAgeSeconds = last.BackupTimestamp is { } taken ? (long)(last.At - taken).TotalSeconds : null,
                Problem = last.Problem,
                NextDue = BackupSchedule.Parse(settings.DrillSchedule).NextAfter(now),
            };
        }

        return new OffsiteReport
        {
            Container = container,
            LastUpload = upload?.Name,
            LastUploadAt = upload?.At,
            LastUploadAgeSeconds = upload is null ? null : (long)(now - upload.Timestamp).TotalSeconds,
            Count = state?.Count,
            LastError = state?.LastError?.Message,
            Drill = drill,
        };
    }

    /// <summary>A duration in the largest whole unit that fits, e.g. "3 h 5 min", "42 s".</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{(int)span.TotalDays} d {span.Hours} h",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes} min",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)} s",
    };
}
