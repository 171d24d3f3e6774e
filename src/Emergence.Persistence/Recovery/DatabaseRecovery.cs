using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Startup recovery. A healthy database is left alone. A missing, empty, unopenable or corrupt one is
/// replaced by the newest point it can verify: the newest local backup that verifies and the replicated
/// segments after it, else (the volume lost or wiped) the newest off-volume backup that downloads and
/// verifies and the segments copied off the volume after it. A database is never created while backups exist that
/// could not be restored, nor while the off-volume container cannot be asked: that stays an error for
/// an operator.
/// </summary>
public sealed class DatabaseRecovery(DatabaseProbe probe, RestoreService restorer, OffsiteConnector offsite, IntegrityRecord integrity, TimeProvider time, ILogger<DatabaseRecovery> logger)
{
    /// <summary>Checks the database and restores it when needed. Never throws for a bad database; reports it.</summary>
    public async Task<RecoveryOutcome> RecoverAsync(DatabaseLocation location, VolumeLock volumeLock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        RestoreService.SweepLeftovers(location);
        var found = probe.Probe(location.DatabasePath);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        if (found.Condition is DatabaseCondition.Healthy or DatabaseCondition.Corrupt)
        {
            integrity.Record(location.BackupDirectory, new IntegrityRecord.IntegrityResult(time.GetUtcNow(), found.Facts?.CheckResult ?? found.Detail ?? "corrupt", "startup", location.DatabasePath));
        }

        if (found.Condition == DatabaseCondition.Healthy)
        {
            // A database that lost every table is not a state to serve, back up over, or migrate from scratch.
            if (ContentLoss.LostEveryTable(inventory.NewestGood?.Manifest, found.Facts!.SchemaObjects) is not { } loss)
            {
                return new RecoveryOutcome(found.Condition, found.Detail, null, null);
            }

            found = found with { Condition = DatabaseCondition.Emptied, Detail = loss };
        }

        var damaged = found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable or DatabaseCondition.Empty or DatabaseCondition.Emptied;
        if (found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable or DatabaseCondition.Emptied)
        {
            PersistenceLog.DatabaseUnusable(logger, location.DatabasePath, Describe(found.Condition), found.Detail ?? "");
        }

        // An emptied database is not recovered by replaying the history that emptied it.
        var emptied = found.Condition == DatabaseCondition.Emptied;
        var why = $"the database was {Describe(found.Condition)}{(found.Detail is null ? "" : $": {found.Detail}")}";
        var failures = new List<string>();
        if (inventory.Verified.Count > 0)
        {
            try
            {
                return Restored(found, restorer.RestoreToTime(location, volumeLock, target: null, force: true, why, knownDamaged: damaged, cancellationToken: cancellationToken, refuseEmptied: emptied));
            }
            catch (RestoreFailedException ex)
            {
                failures.Add(ex.Message);
            }
        }

        var store = offsite.For(location);
        if (store is not null)
        {
            IReadOnlyList<OffsiteBackup>? listed = null;
            try
            {
                listed = await store.ListAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OffsiteUnavailableException ex)
            {
                // Creating a fresh database now could later rotate the real backups out of the container.
                failures.Add($"the off-volume container {store.Container} cannot be read to look for a backup: {ex.Message}");
            }

            if (listed is not null && listed.Any(b => b.IsComplete))
            {
                try
                {
                    return Restored(found, await restorer.RestoreOffsiteToTimeAsync(location, volumeLock, store, target: null, force: true, why, knownDamaged: damaged, listed: listed, cancellationToken: cancellationToken, refuseEmptied: emptied).ConfigureAwait(false));
                }
                catch (RestoreFailedException ex)
                {
                    failures.Add(ex.Message);
                }
            }
        }

        if (failures.Count == 0)
        {
            if (found.Condition is DatabaseCondition.Missing or DatabaseCondition.Empty)
            {
                // Nothing to restore anywhere: a first start. Migrations create the database.
                return new RecoveryOutcome(found.Condition, found.Detail, null, null);
            }

            failures.Add(store is null
                ? $"there is no backup in {location.BackupDirectory}"
                : $"there is no backup in {location.BackupDirectory} or in the off-volume container {store.Container}");
        }

        var unrecoverable = string.Join("; then ", failures);
        PersistenceLog.RecoveryImpossible(logger, location.DatabasePath, Describe(found.Condition), unrecoverable);
        return new RecoveryOutcome(found.Condition, found.Detail, null, unrecoverable);
    }

    private static RecoveryOutcome Restored(DatabaseProbe.Result found, RestoreResult restored) =>
        new(found.Condition, found.Detail, restored, null);

    /// <summary>A condition in words, for logs and health sentences.</summary>
    public static string Describe(DatabaseCondition condition) => condition switch
    {
        DatabaseCondition.Healthy => "healthy",
        DatabaseCondition.Missing => "missing",
        DatabaseCondition.Empty => "empty (0 bytes)",
        DatabaseCondition.Unopenable => "unopenable",
        DatabaseCondition.Corrupt => "corrupt",
        DatabaseCondition.Emptied => "emptied (it lost every table)",
        _ => condition.ToString(),
    };
}
