using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>Brings a verified copy of a backup forward to a point: replays segments onto it, then checks it with <c>integrity_check</c>.</summary>
internal static class PointReplay
{
    /// <summary>What replaying did, and the full check's result (<c>ok</c>, or the first problem; <see langword="null"/> when nothing was replayed).</summary>
    internal sealed record Outcome(SegmentReplay.Result Replay, string? CheckResult);

    /// <summary>Replays <paramref name="segments"/> (local files) of <paramref name="generation"/> onto the database file at <paramref name="staging"/>.</summary>
    public static Outcome Apply(SqliteConnectionFactory connections, string staging, GenerationManifest? generation, IReadOnlyList<ReplicationStore.StoredSegment> segments,
        string? planProblem, ILogger logger, CancellationToken cancellationToken)
    {
        if (segments.Count == 0)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, planProblem), null);
        }

        var replay = SegmentReplay.Apply(staging, generation!.Id, segments, logger, cancellationToken);
        string result;
        using (var connection = connections.OpenReadOnly(staging))
        {
            result = DatabaseInspector.Check(connection, IntegrityCheck.Full).CheckResult;
        }

        SqliteFiles.DeleteSideFiles(staging);
        return new Outcome(replay, result);
    }
}
