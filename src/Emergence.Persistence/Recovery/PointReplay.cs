using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Brings a verified copy of a backup forward along a plan: replays its segments, checks the result with
/// <c>integrity_check</c>, and proves it: the result's content checksum must be the one the history recorded at
/// the point the replay reached. A backup that is a base of a generation must also hold the content the history
/// recorded where it places it.
/// </summary>
internal static class PointReplay
{
    /// <summary>What replaying did, the full check's result (<see langword="null"/> when nothing was replayed), why the proof failed, and the schema's size.</summary>
    internal sealed record Outcome(SegmentReplay.Result Replay, string? CheckResult, string? ProofProblem, long? SchemaObjects);

    /// <summary>Replays <paramref name="segments"/> (the plan's, as local files) onto the database file at <paramref name="staging"/> and proves the result.</summary>
    public static Outcome Apply<TBackup>(SqliteConnectionFactory connections, string staging, Timeline.Plan<TBackup> plan, IReadOnlyList<HistoryFile> segments,
        ILogger logger, CancellationToken cancellationToken)
    {
        if (plan.Generation is not { } generation)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null, null, null);
        }

        // The history places the backup at a point: its own record of its content must agree, or the history is not this database's.
        if (plan.Skip is null && PageHashes.Parse(plan.Manifest.ContentHash) is { } own && plan.BaseHash is { } recorded && own != recorded)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null,
                $"the backup's content checksum {PageHashes.Format(own)} is not the one generation {generation.Id} recorded at its point ({PageHashes.Format(recorded)})", null);
        }

        if (segments.Count == 0)
        {
            return new Outcome(new SegmentReplay.Result(0, 0, null, null), null, null, null);
        }

        var replay = SegmentReplay.Apply(staging, generation.Id, segments, plan.Skip, logger, cancellationToken);
        DatabaseFacts facts;
        using (var connection = connections.OpenReadOnly(staging))
        {
            facts = DatabaseInspector.Check(connection, IntegrityCheck.Full);
        }

        SqliteFiles.DeleteSideFiles(staging);
        var expected = replay.Segments == 0 ? plan.BaseHash : PageHashes.Parse(segments[replay.Segments - 1].Manifest!.EndHash);
        var actual = PageHashes.OfFile(staging, cancellationToken).Checksum;
        var where = replay.Segments == 0 ? $"backup {plan.Manifest.Filename}" : $"segment {segments[replay.Segments - 1].Manifest!.Filename}";
        var proof = replay.Stopped is { } stopped && plan.UsesJumps
            ? $"the replay by level files of generation {generation.Id} stopped early ({stopped}); the plan along its segments follows"
            : expected is null
            ? $"generation {generation.Id} recorded no content checksum at {where}"
            : actual != expected
                ? $"after replaying {replay.Segments} segments of generation {generation.Id}, the content checksum is {PageHashes.Format(actual)}, but the history recorded {PageHashes.Format(expected.Value)} at {where}"
                : null;
        return new Outcome(replay, facts.CheckResult, proof, facts.SchemaObjects);
    }
}
