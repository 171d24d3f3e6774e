using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Startup;

/// <summary>
/// What the app does before it serves: resolve the database location (with the loud fallback), take
/// the volume lock, perform a requested restore, recover a missing or corrupt database, back up a
/// database that changed since its newest backup, apply migrations, and catch up a missed scheduled
/// backup. It does not throw for a bad volume or database: it returns what failed, for health.
/// </summary>
public sealed class StartupSequence(
    IOptions<PersistenceOptions> options,
    DatabaseLocator locator,
    RestoreService restorer,
    DatabaseRecovery recovery,
    BackupService backups,
    BackedUpMigration migrations,
    TimeProvider time,
    ILogger<StartupSequence> logger)
{
    /// <summary>How long a startup backup waits for a backup already running (e.g. one started from the CLI).</summary>
    public static readonly TimeSpan BackupLockWait = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Why the required volume cannot take data yet (one sentence per problem), or <see langword="null"/>
    /// when it can or no volume is required. Nothing is created on the way: a missing volume must not
    /// get a directory, a lock file or a database on the container's own layer.
    /// </summary>
    public string? VolumeProblem()
    {
        var settings = options.Value;
        if (!settings.RequireVolume)
        {
            return null;
        }

        var configured = locator.Configured();
        var problems = VolumeRequirement.Problems(configured.Volume, requireVolume: true);
        if (problems.Count == 0)
        {
            return null;
        }

        DatabaseLocator.LogVolumeProblem(logger, configured.Volume, string.Join(" ", problems));
        return string.Join(" ", problems);
    }

    /// <summary>
    /// Runs the sequence. The caller owns the returned lock and disposes it when the app stops. With a required
    /// volume that cannot take data, it creates nothing and fails at step <c>volume</c> (the function app waits
    /// for the volume with <see cref="VolumeProblem"/> before it calls this).
    /// </summary>
    public Task<StartupResult> RunAsync(CancellationToken cancellationToken = default) => RunAsync(waitingForLock: null, cancellationToken);

    /// <summary>
    /// Runs the sequence as <see cref="RunAsync(CancellationToken)"/> does, telling
    /// <paramref name="waitingForLock"/> who holds the volume lock while it waits for it.
    /// </summary>
    public async Task<StartupResult> RunAsync(Action<string>? waitingForLock, CancellationToken cancellationToken = default)
    {
        if (VolumeProblem() is { } volumeProblem)
        {
            return Fail(new StartupResult { Location = locator.Configured() }, "volume", volumeProblem, null);
        }

        var location = locator.Resolve();
        var result = new StartupResult { Location = location };
        VolumeLock? volumeLock;
        try
        {
            volumeLock = await VolumeLock.AcquireAsync(location.LockPath, options.Value.LockTimeout, logger, time, waitingForLock, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is VolumeLockTimeoutException or IOException)
        {
            return Fail(result, "lock", ex.Message, ex);
        }

        return await UnderLockAsync(location, volumeLock, result with { Lock = volumeLock }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The steps under the volume lock: a restore an operator requested, recovery, sweeping and rotating the backups, the
    /// startup backup, the migrations, and a catch-up backup when the last one is overdue.
    /// </summary>
    private async Task<StartupResult> UnderLockAsync(DatabaseLocation location, VolumeLock volumeLock, StartupResult result, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        try
        {
            result = result with { RequestedRestore = PerformRequestedRestore(location, volumeLock, warnings, cancellationToken) };

            var recovered = await recovery.RecoverAsync(location, volumeLock, cancellationToken).ConfigureAwait(false);
            result = result with { Recovery = recovered };
            if (!recovered.DatabaseUsable)
            {
                return Fail(result with { Warnings = warnings }, "recover", $"the database is {DatabaseRecovery.Describe(recovered.Found)} and could not be recovered: {recovered.Unrecoverable}", null);
            }

            try
            {
                await backups.SweepAndRotateAsync(location, BackupLockWait, cancellationToken).ConfigureAwait(false);
            }
            catch (BackupFailedException ex)
            {
                warnings.Add(ex.Message);
            }

            result = result with { StartupBackup = await TryBackupAsync(location, BackupReason.Startup, onlyIfChanged: true, warnings, cancellationToken).ConfigureAwait(false) };

            MigrationOutcome migrated;
            try
            {
                migrated = await migrations.ApplyAsync(location, cancellationToken).ConfigureAwait(false);
            }
            catch (MigrationFailedException ex)
            {
                return Fail(result with { Warnings = warnings }, "migrate", ex.Message, ex);
            }

            result = result with { Migrations = migrated };
            if (IsBackupOverdue(location))
            {
                result = result with { CatchUpBackup = await TryBackupAsync(location, BackupReason.Startup, onlyIfChanged: false, warnings, cancellationToken).ConfigureAwait(false) };
            }

            result = result with { Warnings = warnings };
            var outcome = Outcome(result);
            PersistenceLog.StartupCompleted(logger, location.DatabasePath, migrated.ToVersion, outcome);
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            return Fail(result with { Warnings = warnings }, "database", ex.Message, ex);
        }
    }

    private RestoreResult? PerformRequestedRestore(DatabaseLocation location, VolumeLock volumeLock, List<string> warnings, CancellationToken cancellationToken)
    {
        var requestPath = RestoreRequest.PathFor(location.DatabaseDirectory);
        var request = RestoreRequests.Read(location.DatabaseDirectory);
        if (request is null)
        {
            return null;
        }

        string error;
        try
        {
            if (request.Error is null)
            {
                var why = $"requested on {UtcSecondsConverter.Format(request.RequestedAt)}";
                var restored = request.Latest
                    ? restorer.RestoreToTime(location, volumeLock, target: null, force: true, why, cancellationToken: cancellationToken)
                    : restorer.Restore(location, volumeLock, request.Backup, force: true, why, cancellationToken: cancellationToken);
                RestoreRequests.Delete(location.DatabaseDirectory);
                return restored;
            }

            error = request.Error;
        }
        catch (Exception ex) when (ex is RestoreFailedException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            error = ex.Message;
        }

        // Kept for the operator, never retried: a restore that failed once would fail on every start.
        RestoreRequests.WriteFailed(location.DatabaseDirectory, request with { Error = error });
        RestoreRequests.Delete(location.DatabaseDirectory);
        PersistenceLog.RestoreRequestFailed(logger, requestPath, error);
        warnings.Add($"The requested restore failed: {error}");
        return null;
    }

    private async Task<BackupManifest?> TryBackupAsync(DatabaseLocation location, BackupReason reason, bool onlyIfChanged, List<string> warnings, CancellationToken cancellationToken)
    {
        if (new FileInfo(location.DatabasePath) is not { Exists: true, Length: > 0 })
        {
            return null;
        }

        try
        {
            return onlyIfChanged
                ? await backups.CreateIfChangedAsync(location, reason, BackupLockWait, cancellationToken: cancellationToken).ConfigureAwait(false)
                : await backups.CreateAsync(location, reason, BackupLockWait, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (BackupFailedException ex)
        {
            // Logged by the backup service; startup goes on, and health reports the failure.
            warnings.Add(ex.Message);
            return null;
        }
    }

    private bool IsBackupOverdue(DatabaseLocation location)
    {
        var now = time.GetUtcNow();
        var newest = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now).Newest;
        var interval = BackupSchedule.Parse(options.Value.BackupSchedule).LongestIntervalAfter(now);
        return newest is null || now - newest.Manifest!.Timestamp > interval;
    }

    private StartupResult Fail(StartupResult result, string step, string cause, Exception? exception)
    {
        PersistenceLog.StartupFailed(logger, exception, step, cause);
        return result with { FailedStep = step, Failure = cause };
    }

    private static string Outcome(StartupResult result)
    {
        var parts = new List<string>();
        if (result.RequestedRestore is { } requested)
        {
            parts.Add($"restored {requested.Backup.Filename} as requested");
        }

        if (result.Recovery?.Restore is { } restored)
        {
            parts.Add($"recovered from {restored.Backup.Filename}");
        }

        if (result.Migrations is { Created: true })
        {
            parts.Add("created the database");
        }

        if (result.Migrations is { Applied.Count: > 0 } migrated)
        {
            parts.Add($"applied {migrated.Applied.Count} migration(s)");
        }

        if (result.StartupBackup is { } startup)
        {
            parts.Add($"startup backup {startup.Filename}");
        }

        if (result.CatchUpBackup is { } catchUp)
        {
            parts.Add($"catch-up backup {catchUp.Filename}");
        }

        return parts.Count == 0 ? "nothing to do" : string.Join(", ", parts);
    }
}
