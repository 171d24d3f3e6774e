using Emergence.Persistence.Logging;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Database;

/// <summary>
/// Plans and applies pending migrations, each in its own transaction together with its
/// <c>user_version</c> bump. Whether a backup comes first is the caller's decision
/// (<see cref="MigrationPlan.NeedsBackup"/>); the startup sequence takes it.
/// </summary>
public sealed class MigrationRunner(SqliteConnectionFactory connections, IReadOnlyList<Migration> migrations, ILogger<MigrationRunner> logger)
{
    /// <summary>The newest schema version this app knows.</summary>
    public int LatestVersion => migrations.Count == 0 ? 0 : migrations[^1].Version;

    /// <summary>Reads the database's schema version (creating the database when missing) and lists what is pending.</summary>
    /// <exception cref="MigrationFailedException">The database is newer than this app.</exception>
    public MigrationPlan Plan(DatabaseLocation location)
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

        return new MigrationPlan(path, from, [.. migrations.Where(m => m.Version > from)], created, hasData);
    }

    /// <summary>Applies a plan's pending migrations in order; returns the schema version reached.</summary>
    /// <exception cref="MigrationFailedException">A script failed; that migration was rolled back, earlier ones stay.</exception>
    public int Apply(MigrationPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Pending.Count == 0)
        {
            return plan.FromVersion;
        }

        using var connection = connections.OpenExisting(plan.DatabasePath);
        foreach (var migration in plan.Pending)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Apply(connection, migration, plan.DatabasePath);
        }

        return plan.Pending[^1].Version;
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
