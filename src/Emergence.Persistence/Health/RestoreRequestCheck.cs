using Emergence.Persistence.Database;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Health;

/// <summary>A requested restore (<c>emergence-db restore --on-next-start</c>) that failed and waits for an operator.</summary>
public static class RestoreRequestCheck
{
    /// <summary>One degraded finding when a failed request is kept beside the database.</summary>
    public static IReadOnlyList<HealthFinding> Check(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var path = RestoreRequest.FailedPathFor(location.DatabaseDirectory);
        return RestoreRequests.ReadFailed(location.DatabaseDirectory) is { } failed
            ? [HealthFinding.Degraded($"A requested restore of {(failed.Backup.Length == 0 ? "a backup" : failed.Backup)} failed and will not be retried: {failed.Error}. Delete {path} once handled.")]
            : [];
    }
}
