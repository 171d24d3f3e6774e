namespace Emergence.Persistence.Database;

/// <summary>What a migration run would do to one database.</summary>
/// <param name="DatabasePath">The database.</param>
/// <param name="FromVersion">Its schema version now.</param>
/// <param name="Pending">The migrations it lacks, in order.</param>
/// <param name="Created">Whether planning created the database file (it did not exist).</param>
/// <param name="HasData">Whether it holds any schema object, so that migrating it risks something.</param>
public sealed record MigrationPlan(string DatabasePath, int FromVersion, IReadOnlyList<Migration> Pending, bool Created, bool HasData)
{
    /// <summary>Whether a backup must come first: migrations are pending on a database that holds data.</summary>
    public bool NeedsBackup => Pending.Count > 0 && HasData;
}
