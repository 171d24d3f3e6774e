using Emergence.Persistence.Database;

namespace Emergence.Persistence.Recovery;

/// <summary>What startup recovery found and did.</summary>
/// <param name="Found">The database's condition before recovery.</param>
/// <param name="Detail">The SQLite error or integrity complaint, when there was one.</param>
/// <param name="Restore">The restore performed, if any.</param>
/// <param name="Unrecoverable">Why the database is unusable and could not be recovered, or <see langword="null"/>.</param>
public sealed record RecoveryOutcome(DatabaseCondition Found, string? Detail, RestoreResult? Restore, string? Unrecoverable)
{
    /// <summary>Whether the database may be opened (and, when missing, created) after recovery.</summary>
    public bool DatabaseUsable => Unrecoverable is null;
}
