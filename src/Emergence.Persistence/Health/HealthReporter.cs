using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
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
    TimeProvider time)
{
    /// <summary>Reports on the database at <paramref name="location"/>. <paramref name="startupFailure"/> is a sentence when startup failed.</summary>
    public HealthReport Check(DatabaseLocation location, string? startupFailure = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        var now = time.GetUtcNow();
        try
        {
            return CheckCore(location, startupFailure, now);
        }
        catch (Exception ex)
        {
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
                Problems = [$"The health check itself failed: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}"],
            };
        }
    }

    private HealthReport CheckCore(DatabaseLocation location, string? startupFailure, DateTimeOffset now)
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

        var volume = inspector.Inspect(location.DatabaseDirectory, location.DatabasePath, create: false);
        var onVolume = volume.Mounted && volume.MatchesExpectedMount;
        if (!volume.MatchesExpectedMount)
        {
            Unhealthy($"Railway mounted the volume at {volume.ExpectedMountPath}, but the database directory {volume.Path} is on {volume.MountPoint ?? "an unknown mount"}: the database is not on the volume.");
        }
        else if (settings.RequireVolume && !volume.Mounted)
        {
            Unhealthy($"The database directory {volume.Path} is not a mounted volume (it is on {volume.Filesystem ?? "an unknown file system"} at {volume.MountPoint ?? "?"}, the container's own layer): data written there is lost on redeploy.");
        }

        if (!volume.Writable)
        {
            Unhealthy($"The database directory {volume.Path} is not writable: {volume.Error ?? "unknown error"}.");
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

        var database = ReportDatabase(location, volume, onVolume, Unhealthy);
        var failedRequest = RestoreRequest.Read(RestoreRequest.FailedPathFor(location));
        if (failedRequest is not null)
        {
            problems.Add($"A requested restore of {(failedRequest.Backup.Length == 0 ? "a backup" : failedRequest.Backup)} failed and will not be retried: {failedRequest.Error}. Delete {RestoreRequest.FailedPathFor(location)} once handled.");
        }

        var backups = ReportBackups(location, now, settings, problems);
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

    private DatabaseReport ReportDatabase(DatabaseLocation location, VolumeStatus volume, bool onVolume, Action<string> unhealthy)
    {
        var path = location.DatabasePath;
        int? userVersion = null;
        if (!volume.DatabaseExists)
        {
            unhealthy($"The database file {path} does not exist.");
        }
        else
        {
            try
            {
                using var connection = connections.OpenReadOnly(path);
                userVersion = (int)DatabaseInspector.Scalar(connection, "PRAGMA user_version");
                DatabaseInspector.Scalar(connection, "SELECT count(*) FROM sqlite_schema");
            }
            catch (SqliteException ex)
            {
                unhealthy($"The database file {path} cannot be read: {ex.Message}");
            }
        }

        return new DatabaseReport
        {
            Path = path,
            OnVolume = onVolume,
            Fallback = location.IsFallback,
            ConfiguredPath = location.ConfiguredDatabasePath,
            Exists = volume.DatabaseExists,
            Size = BackupSpace.DatabaseBytes(path),
            SqliteVersion = SqliteRuntime.Version,
            UserVersion = userVersion,
        };
    }

    private BackupsReport ReportBackups(DatabaseLocation location, DateTimeOffset now, PersistenceOptions settings, List<string> problems)
    {
        var verified = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath).Verified;
        var latest = verified.Count > 0 ? verified[0].Manifest : null;
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
