using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// The replay and proof steps of a restore to a point: replays a plan's segments onto the verified copy in the
/// staging file (<see cref="PointReplay"/>) and proves the result (its content checksum must be the one the history
/// recorded at the point reached, and SQLite must read its schema). A result that fails either, or that would end emptied when that
/// is refused, is a failed candidate (<c>RestoreProofFailed</c>), never a restore.
/// </summary>
internal sealed class ReplayProof(SqliteConnectionFactory connections, ILogger logger, PersistenceMetrics? metrics)
{
    /// <summary>The name of the check a replayed candidate passes or fails.</summary>
    private const string ProofCheck = "content proof";

    /// <summary>Replays <paramref name="segments"/> onto <paramref name="staging"/> and proves the result; returns the candidate's verification and, when it holds, the replay.</summary>
    public (BackupVerification Verification, SegmentReplay.Result? Replay) Prove<TBackup>(Timeline.Plan<TBackup> plan, IReadOnlyList<HistoryFile> segments, string staging,
        BackupVerification verification, IProgress<OperationProgress>? progress, bool refuseEmptied, CancellationToken cancellationToken)
    {
        // A copy whose content checksum its verification measured: the proof need only read back what the replay changes.
        var outcome = PointReplay.Apply(connections, staging, plan, segments, verification.CopyContentHash, progress, logger, cancellationToken);
        if (plan.Generation is not null && (segments.Count > 0 || plan.BaseHash is not null))
        {
            metrics?.ProofChecked(outcome.ProofProblem is null);
        }

        if (outcome.Replay.Stopped is null && plan.Problem is not null)
        {
            // The replay reached its planned point, which the history's damage put short of its newest segments.
            outcome = outcome with { Replay = outcome.Replay with { Stopped = plan.Problem } };
            var at = outcome.Replay.ReachedAt is { } reached ? UtcMillisecondsConverter.Format(reached) : "the backup itself";
            PersistenceLog.ReplayStopped(logger, plan.Generation!.Id, plan.StopsBefore!, plan.Problem, at);
        }

        var name = plan.Manifest.Filename;
        if (ProblemOf(plan, outcome, refuseEmptied) is { } problem)
        {
            PersistenceLog.RestoreProofFailed(logger, name, problem);
            return (new BackupVerification(name, false, problem, verification.ChecksumMatches, outcome.CheckResult, ProofCheck), null);
        }

        return (outcome.CheckResult is null ? verification : verification with { CheckResult = "ok", Check = $"{verification.Check} and content proof" }, outcome.Replay);
    }

    private static string? ProblemOf<TBackup>(Timeline.Plan<TBackup> plan, PointReplay.Outcome outcome, bool refuseEmptied) =>
        outcome.CheckResult is { } check && check != "ok"
            ? $"after replaying {outcome.Replay.Segments} segments SQLite cannot read the copy's schema: {check}"
        : outcome.ProofProblem
        ?? (refuseEmptied && outcome.Replay.Segments > 0 && ContentLoss.LostEveryTable(plan.Manifest, outcome.SchemaObjects ?? -1) is { } loss
            ? $"the replay would end with an emptied database ({loss}), which is not a recovery"
            : null);
}
