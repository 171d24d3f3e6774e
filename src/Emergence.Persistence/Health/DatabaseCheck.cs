using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Health;

/// <summary>
/// The database: a regular file that exists and opens, has not lost its content, passed its last integrity
/// check; and the last restore. Never creates the file. Every finding is unhealthy.
/// </summary>
public sealed class DatabaseCheck(SqliteConnectionFactory connections, IntegrityRecord integrity)
{
    /// <summary>
    /// Checks the database at <paramref name="location"/>. With <paramref name="freshIntegrityCheck"/>, it gets a
    /// <c>quick_check</c> now; otherwise the last recorded check is reported.
    /// </summary>
    public Checked<DatabaseReport> Check(DatabaseLocation location, bool onVolume, BackupInventory inventory, bool freshIntegrityCheck, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(inventory);
        var findings = new List<HealthFinding>();
        var path = location.DatabasePath;
        var exists = File.Exists(path);
        var good = inventory.NewestGood;
        var (userVersion, checkedIntegrity) = Inspect(path, exists, good, freshIntegrityCheck, now, findings);
        var last = checkedIntegrity ?? (exists ? integrity.LastFor(location.BackupDirectory, path) : null);
        if (last is { Ok: false })
        {
            findings.Add(HealthFinding.Unhealthy($"The database {path} failed its integrity check at {UtcSecondsConverter.Format(last.CheckedAt)} ({last.Source}): {Printable.Escape(last.Result)}. "
                + (good is null ? "There is no good backup to restore." : RestoreAdvice(good.Name))));
        }

        var report = new DatabaseReport
        {
            Path = path,
            OnVolume = onVolume,
            Fallback = location.IsFallback,
            ConfiguredPath = location.ConfiguredDatabasePath,
            Exists = exists,
            Size = BackupSpace.DatabaseBytes(path),
            SqliteVersion = SqliteRuntime.Version,
            UserVersion = userVersion,
            Integrity = last is null ? null : new IntegrityReport { CheckedAt = last.CheckedAt, Result = Printable.Escape(last.Result), Source = last.Source },
            FallbackReason = location.FallbackReason,
            LastRestore = LastRestore(location, now),
        };
        return new Checked<DatabaseReport>(report, findings);
    }

    /// <summary>
    /// Looks at the file itself: a special file or a missing one is a finding; otherwise it is opened read-only for its
    /// schema version and whether it lost every table (against <paramref name="good"/>'s manifest), and with
    /// <paramref name="fresh"/> it gets a <c>quick_check</c> now. Returns the version and that check's result.
    /// </summary>
    private (int? UserVersion, IntegrityRecord.IntegrityResult? Checked) Inspect(string path, bool exists, BackupEntry? good, bool fresh, DateTimeOffset now, List<HealthFinding> findings)
    {
        if (RegularFile.NotADatabaseFile(path) is { } special)
        {
            findings.Add(HealthFinding.Unhealthy($"The database path {path} is {special}, not a database file."));
            return (null, null);
        }

        if (!exists)
        {
            findings.Add(HealthFinding.Unhealthy($"The database file {path} does not exist."));
            return (null, null);
        }

        int? userVersion = null;
        try
        {
            using var connection = connections.OpenReadOnly(path);
            userVersion = (int)DatabaseInspector.Scalar(connection, "PRAGMA user_version");
            var schemaObjects = DatabaseInspector.Scalar(connection, "SELECT count(*) FROM sqlite_schema");
            if (ContentLoss.LostEveryTable(good?.Manifest, schemaObjects) is { } loss)
            {
                findings.Add(HealthFinding.Unhealthy($"The database file {path} has lost its content: {loss}. {RestoreAdvice(good!.Name)}"));
            }

            return fresh ? (userVersion, new IntegrityRecord.IntegrityResult(now, DatabaseInspector.Check(connection, IntegrityCheck.Quick).CheckResult, "status", path)) : (userVersion, null);
        }
        catch (SqliteException ex)
        {
            findings.Add(HealthFinding.Unhealthy($"The database file {path} cannot be read: {ex.Message}"));
            return (userVersion, fresh ? new IntegrityRecord.IntegrityResult(now, ex.Message, "status", path) : null);
        }
    }

    /// <summary>The last restore recorded for the database, as health shows it.</summary>
    private static RestoreReport? LastRestore(DatabaseLocation location, DateTimeOffset now) =>
        RestoreRecord.LastFor(location.BackupDirectory, location.DatabasePath) is { } restore
            ? new RestoreReport
            {
                At = restore.RestoredAt,
                AgeSeconds = Math.Max(0, (long)(now - restore.RestoredAt).TotalSeconds),
                Backup = Printable.Escape(restore.Backup),
                Reason = Printable.Escape(restore.Reason),
                Quarantine = restore.Quarantine is null ? null : Printable.Escape(restore.Quarantine),
            }
            : null;

    /// <summary>How to put the newest good backup back, in the exact commands.</summary>
    private static string RestoreAdvice(string backup) =>
        $"The newest good backup is {backup}: restart the service (startup restores it), or run 'emergence-db restore --on-next-start {backup}' and restart; with the app stopped, 'emergence-db restore {backup} --force'.";
}
