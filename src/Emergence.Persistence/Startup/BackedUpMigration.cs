using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Persistence.Startup;

/// <summary>
/// Migrates a database the safe way: when it already holds data and migrations are pending, a
/// <c>pre-migration</c> backup is taken first, and a failed backup stops the migration before any
/// script runs.
/// </summary>
public sealed class BackedUpMigration(MigrationRunner migrations, BackupService backups)
{
    /// <summary>How long the pre-migration backup waits for a running backup to finish.</summary>
    public static readonly TimeSpan BackupLockWait = TimeSpan.FromMinutes(5);

    /// <summary>Applies every pending migration to the database at <paramref name="location"/>, creating it when missing.</summary>
    /// <exception cref="MigrationFailedException">The database is newer than this app, the backup failed, or a script failed.</exception>
    public async Task<MigrationOutcome> ApplyAsync(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        var plan = migrations.Plan(location);
        BackupManifest? backup = null;
        if (plan.NeedsBackup)
        {
            try
            {
                backup = await backups.CreateAsync(location, BackupReason.PreMigration, BackupLockWait, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (BackupFailedException ex)
            {
                throw new MigrationFailedException($"The pre-migration backup failed, so no migration was applied: {ex.Message}", ex);
            }
        }

        var reached = migrations.Apply(plan, cancellationToken);
        return new MigrationOutcome(plan.FromVersion, reached, plan.Pending, plan.Created, backup);
    }
}
