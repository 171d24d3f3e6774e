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
        var (found, inventory) = Examine(location);
        if (found.Condition == DatabaseCondition.Healthy)
        {
            return new RecoveryOutcome(found.Condition, found.Detail, null, null);
        }

        if (found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable or DatabaseCondition.Emptied)
        {
            PersistenceLog.DatabaseUnusable(logger, location.DatabasePath, Describe(found.Condition), found.Detail ?? "");
        }

        var options = new RestoreOptions
        {
            Why = $"the database was {Describe(found.Condition)}{(found.Detail is null ? "" : $": {found.Detail}")}",
            Force = true,
            KnownDamaged = found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable or DatabaseCondition.Empty or DatabaseCondition.Emptied,
            // An emptied database is not recovered by replaying the history that emptied it.
            RefuseEmptied = found.Condition == DatabaseCondition.Emptied,
        };
        var failures = new List<string>();
        if (inventory.Verified.Count > 0
            && await TryRestoreAsync(failures, () => restorer.RestoreAsync(location, volumeLock, RestoreTarget.Point(null), options, cancellationToken: cancellationToken)).ConfigureAwait(false) is { } local)
        {
            return Restored(found, local);
        }

        var store = offsite.For(location);
        if (store is not null && await FromContainerAsync(location, volumeLock, store, options, failures, cancellationToken).ConfigureAwait(false) is { } fromContainer)
        {
            return Restored(found, fromContainer);
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

    /// <summary>Probes the database (recording a check that ran) and calls a healthy one that lost every table the newest good backup holds emptied.</summary>
    private (DatabaseProbe.Result Found, BackupInventory Inventory) Examine(DatabaseLocation location)
    {
        var found = probe.Probe(location.DatabasePath);
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        if (found.Condition is DatabaseCondition.Healthy or DatabaseCondition.Corrupt)
        {
            integrity.Record(location.BackupDirectory, new IntegrityRecord.IntegrityResult(time.GetUtcNow(), found.Facts?.CheckResult ?? found.Detail ?? "corrupt", "startup", location.DatabasePath));
        }

        // A database that lost every table is not a state to serve, back up over, or migrate from scratch.
        if (found.Condition == DatabaseCondition.Healthy && ContentLoss.LostEveryTable(inventory.NewestGood?.Manifest, found.Facts!.SchemaObjects) is { } loss)
        {
            found = found with { Condition = DatabaseCondition.Emptied, Detail = loss };
        }

        return (found, inventory);
    }

    /// <summary>Restores the newest point from the off-volume container when it holds a complete backup; records why not.</summary>
    private async Task<RestoreResult?> FromContainerAsync(DatabaseLocation location, VolumeLock volumeLock, OffsiteStore store, RestoreOptions options, List<string> failures, CancellationToken cancellationToken)
    {
        IReadOnlyList<OffsiteBackup> listed;
        try
        {
            listed = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex)
        {
            // Creating a fresh database now could later rotate the real backups out of the container.
            failures.Add($"the off-volume container {store.Container} cannot be read to look for a backup: {ex.Message}");
            return null;
        }

        if (!listed.Any(b => b.IsComplete))
        {
            return null;
        }

        return await TryRestoreAsync(failures, () => restorer.RestoreOffsiteToTimeAsync(location, volumeLock, store, target: null, options.Force, options.Why,
            knownDamaged: options.KnownDamaged, listed: listed, refuseEmptied: options.RefuseEmptied, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Runs a restore; a refusal is recorded in <paramref name="failures"/> and yields <see langword="null"/>.</summary>
    private static async Task<RestoreResult?> TryRestoreAsync(List<string> failures, Func<Task<RestoreResult>> restore)
    {
        try
        {
            return await restore().ConfigureAwait(false);
        }
        catch (RestoreFailedException ex)
        {
            failures.Add(ex.Message);
            return null;
        }
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
