using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Startup recovery: a missing database with backups present, or one that cannot be opened or
/// fails <c>quick_check</c>, is replaced by the newest backup that verifies. A database is never
/// created while backups exist that could not be restored: that stays an error for an operator.
/// </summary>
public sealed class DatabaseRecovery(DatabaseProbe probe, RestoreService restorer, ILogger<DatabaseRecovery> logger)
{
    /// <summary>Checks the database and restores it when needed. Never throws for a bad database; reports it.</summary>
    public RecoveryOutcome Recover(DatabaseLocation location, VolumeLock volumeLock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        RestoreService.SweepLeftovers(location);
        var found = probe.Probe(location.DatabasePath);
        var hasBackups = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath).Verified.Count > 0;
        switch (found.Condition)
        {
            case DatabaseCondition.Healthy:
            case DatabaseCondition.Missing or DatabaseCondition.Empty when !hasBackups:
                return new RecoveryOutcome(found.Condition, found.Detail, null, null);
            case DatabaseCondition.Corrupt or DatabaseCondition.Unopenable when !hasBackups:
                var none = $"there is no backup in {location.BackupDirectory}";
                PersistenceLog.DatabaseUnusable(logger, location.DatabasePath, Describe(found.Condition), found.Detail ?? "");
                PersistenceLog.RecoveryImpossible(logger, location.DatabasePath, Describe(found.Condition), none);
                return new RecoveryOutcome(found.Condition, found.Detail, null, none);
        }

        if (found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable)
        {
            PersistenceLog.DatabaseUnusable(logger, location.DatabasePath, Describe(found.Condition), found.Detail ?? "");
        }

        try
        {
            var why = $"the database was {Describe(found.Condition)}{(found.Detail is null ? "" : $": {found.Detail}")}";
            var damaged = found.Condition is DatabaseCondition.Corrupt or DatabaseCondition.Unopenable or DatabaseCondition.Empty;
            var restored = restorer.Restore(location, volumeLock, backupName: null, force: true, why, knownDamaged: damaged, cancellationToken: cancellationToken);
            return new RecoveryOutcome(found.Condition, found.Detail, restored, null);
        }
        catch (RestoreFailedException ex)
        {
            PersistenceLog.RecoveryImpossible(logger, location.DatabasePath, Describe(found.Condition), ex.Message);
            return new RecoveryOutcome(found.Condition, found.Detail, null, ex.Message);
        }
    }

    /// <summary>A condition in words, for logs and health sentences.</summary>
    public static string Describe(DatabaseCondition condition) => condition switch
    {
        DatabaseCondition.Healthy => "healthy",
        DatabaseCondition.Missing => "missing",
        DatabaseCondition.Empty => "empty (0 bytes)",
        DatabaseCondition.Unopenable => "unopenable",
        DatabaseCondition.Corrupt => "corrupt",
        _ => condition.ToString(),
    };
}
