using Emergence.Persistence.Configuration;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Replication;

/// <summary>The restore window as configured (<see cref="ReplicationOptions.RestoreWindow"/>), for the layers above that read no settings.</summary>
public sealed class RestoreWindow(IOptions<PersistenceOptions> options)
{
    /// <summary>The oldest time the window reaches back to at <paramref name="now"/>.</summary>
    public DateTimeOffset StartAt(DateTimeOffset now) => now - options.Value.Replication.RestoreWindow;

    /// <summary>Whether every point of <paramref name="history"/> is older than the window at <paramref name="now"/> (<see cref="ReplicationRetention.PastTheWindow"/>).</summary>
    public bool Passed(History history, DateTimeOffset now) => ReplicationRetention.PastTheWindow(history, StartAt(now));
}
