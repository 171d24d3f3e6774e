using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Persistence.Startup;

/// <summary>What a migration run did.</summary>
/// <param name="FromVersion">The schema version found.</param>
/// <param name="ToVersion">The schema version now.</param>
/// <param name="Applied">The migrations applied, in order.</param>
/// <param name="Created">Whether the database file was created by this run.</param>
/// <param name="PreMigrationBackup">The backup taken first, when the database had data and migrations were pending.</param>
public sealed record MigrationOutcome(int FromVersion, int ToVersion, IReadOnlyList<Migration> Applied, bool Created, BackupManifest? PreMigrationBackup);
