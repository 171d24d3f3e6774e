using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Replication;

/// <summary>
/// What rotation must keep for the restore window: in each generation with points in it, the backups a replay to its
/// oldest point starts from (<see cref="ReplicationRetention.WindowBases"/>), read from the history on the volume.
/// </summary>
public sealed class WindowBases(IOptions<PersistenceOptions> options) : IHeldBackups
{
    /// <inheritdoc/>
    public IReadOnlySet<string> Held(DatabaseLocation location, IReadOnlyList<BackupEntry> verified, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(verified);
        var store = new ReplicationStore(location.BackupDirectory);
        var manifests = verified.Select(b => b.Manifest).OfType<BackupManifest>().ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return ReplicationRetention.WindowBases(store.Generations(location.DatabasePath), store.Files, manifests, now, options.Value.Replication);
            }
            catch (IOException) when (attempt < 3)
            {
                // Retention or the space budget (which take no backup lock) deleted history while it was read: read it again.
            }
        }
    }
}
