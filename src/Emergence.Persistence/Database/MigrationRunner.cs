using Emergence.Persistence.Backups;
using Emergence.Persistence.Logging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Database;

/// <summary>
/// Applies pending migrations, each in its own transaction together with its <c>user_version</c>
/// bump. When the database already holds data, a <c>pre-migration</c> backup is taken first, and a
/// failed backup stops the migration.
/// </summary>
public sealed class MigrationRunner(SqliteConnectionFactory connections, BackupService backups, IReadOnlyList<Migration> migrations, ILogger<MigrationRunner> logger)
{
    /// <summary>How long the pre-migration backup waits for a running backup to finish.</summary>
    public static readonly TimeSpan BackupLockWait = TimeSpan.FromMinutes(5);

    /// <summary>The newest schema version this app knows.</summary>
    public int LatestVersion => migrations.Count == 0 ? 0 : migrations[^1].Version;

    /// <summary>Applies every pending migration to the database at <paramref name="location"/>, creating it when missing.</summary>
    /// <exception cref="MigrationFailedException">The database is newer than this app, the backup failed, or a script failed.</exception>
    public async Task<MigrationOutcome> ApplyAsync(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var path = location.DatabasePath;
        var created = !File.Exists(path);
        int from;
        bool hasData;
        using (var connection = connections.OpenOrCreate(path))
        {
            if (created)
            {
                PersistenceLog.DatabaseCreated(logger, path);
            }

            from = (int)DatabaseInspector.Scalar(connection, "PRAGMA user_version");
            hasData = DatabaseInspector.Scalar(connection, "SELECT count(*) FROM sqlite_schema") > 0;
        }

        if (from > LatestVersion)
        {
            throw new MigrationFailedException($"The database {path} is at schema version {from}, newer than this app's {LatestVersion}; refusing to run an older app against it.");
        }

        var pending = migrations.Where(m => m.Version > from).ToList();
        if (pending.Count == 0)
        {
            return new MigrationOutcome(from, from, [], created, null);
        }

        BackupManifest? backup = null;
        if (hasData)
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

        using (var connection = connections.OpenExisting(path))
        {
            foreach (var migration in pending)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Apply(connection, migration, path);
            }
        }

        return new MigrationOutcome(from, pending[^1].Version, pending, created, backup);
    }

    private void Apply(SqliteConnection connection, Migration migration, string path)
    {
        try
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"{migration.Sql}\n;PRAGMA user_version = {migration.Version};";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (SqliteException ex)
        {
            throw new MigrationFailedException($"Migration {migration.Version:0000}_{migration.Name} failed and was rolled back: {ex.Message}", ex);
        }

        PersistenceLog.MigrationApplied(logger, migration.Version, migration.Name, path);
    }
}
