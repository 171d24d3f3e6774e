using Emergence.Persistence.Database;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Backups that something beside the retention tiers still needs, which rotation therefore keeps: the bases the
/// restore window's history starts from (<c>Replication/WindowBases</c>). Rotation lives below replication, so it asks
/// through this seam.
/// </summary>
public interface IHeldBackups
{
    /// <summary>The names of the backups among <paramref name="verified"/> that must stay at <paramref name="now"/>.</summary>
    /// <param name="location">The database and its backup directory.</param>
    /// <param name="verified">The verified backups rotation is about to judge.</param>
    /// <param name="now">The time the restore window ends.</param>
    IReadOnlySet<string> Held(DatabaseLocation location, IReadOnlyList<BackupEntry> verified, DateTimeOffset now);
}
