using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// Every restore, in one order: refuse what must not be replaced; read the source (<see cref="RestoreSource{TBackup}"/>);
/// plan the candidates for the target (<see cref="RestorePlanner"/>); stage each in turn until one verifies
/// (<see cref="RestoreStaging"/>), replaying and proving a point's history onto it (<see cref="ReplayProof"/>);
/// quarantine what is there and swap the result in (<see cref="RestoreSwap"/>). The restore's duration and outcome go
/// to <see cref="PersistenceMetrics.RestoreCompleted"/>.
/// </summary>
internal sealed class RestorePipeline(SqliteConnectionFactory connections, DatabaseProbe probe, IntegrityRecord integrity, TimeProvider time, ILogger logger, PersistenceMetrics? metrics)
{
    private readonly ReplayProof _proof = new(connections, logger, metrics);
    private readonly RestoreSwap _swap = new(connections, integrity, time, logger);

    /// <summary>Restores <paramref name="target"/> from <paramref name="source"/>.</summary>
    /// <exception cref="InvalidBackupNameException">The target names something that is not a backup's file name.</exception>
    /// <exception cref="RestoreFailedException">Refused, the source cannot be read, nothing fits the target, or no candidate verified; the database is unchanged.</exception>
    public async Task<RestoreResult> RunAsync<TBackup>(DatabaseLocation location, VolumeLock volumeLock, RestoreSource<TBackup> source, RestoreTarget target, RestoreOptions options,
        CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var result = MetricResults.Failed;
        try
        {
            var restored = await StepsAsync(location, volumeLock, source, target, options, cancellationToken).ConfigureAwait(false);
            result = MetricResults.Ok;
            return restored;
        }
        finally
        {
            metrics?.RestoreCompleted(target.IsPoint ? $"{source.MetricName}_point" : source.MetricName, result, time.GetElapsedTime(started));
        }
    }

    private async Task<RestoreResult> StepsAsync<TBackup>(DatabaseLocation location, VolumeLock volumeLock, RestoreSource<TBackup> source, RestoreTarget target, RestoreOptions options,
        CancellationToken cancellationToken)
    {
        Refuse(location, volumeLock, target.BackupName, options.Force);
        options.Progress?.Report(new OperationProgress("plan", 0, 0));
        var catalog = await source.ReadAsync(target, cancellationToken).ConfigureAwait(false);
        var candidates = RestorePlanner.Candidates(source, catalog, target);
        var staged = await RestoreStaging.FirstThatVerifiesAsync(location, candidates,
            (candidate, staging, ct) => StageAsync(source, candidate, staging, options, ct), cancellationToken).ConfigureAwait(false);
        var why = options.Why + (source.Container is { } container ? $" (from the off-volume container {container})" : "");
        if (target.IsPoint && staged.Replay?.ReachedAt is { } reached)
        {
            why += $" replayed to {UtcMillisecondsConverter.Format(reached)}";
        }

        options.Progress?.Report(new OperationProgress("swap", 0, 0));
        var restored = _swap.Complete(location, staged.Manifest, why, options.KnownDamaged, staged.Skipped);
        return restored with { Replay = staged.Replay, OffsiteContainer = source.Container };
    }

    /// <summary>Puts a verified copy of the candidate's backup in the staging file and, for a point, brings it forward along its plan and proves it.</summary>
    private async ValueTask<(BackupVerification Verification, SegmentReplay.Result? Replay)> StageAsync<TBackup>(RestoreSource<TBackup> source, RestoreCandidate<TBackup> candidate,
        string staging, RestoreOptions options, CancellationToken cancellationToken)
    {
        var measure = candidate.Plan is { Generation: not null };
        var verification = await source.StageAsync(candidate.Backup, staging, measure, options.Progress, cancellationToken).ConfigureAwait(false);
        if (!verification.Ok || candidate.Plan is not { } plan)
        {
            return (verification, null);
        }

        var segments = await source.SegmentsAsync(plan, options.Progress, cancellationToken).ConfigureAwait(false);
        return _proof.Prove(plan, segments, staging, verification, options.Progress, options.RefuseEmptied, cancellationToken);
    }

    /// <summary>Refuses without the volume lock, for a name that is not a backup's, and for a healthy database unless forced.</summary>
    private void Refuse(DatabaseLocation location, VolumeLock volumeLock, string? backupName, bool force)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(volumeLock);
        if (!volumeLock.IsHeld || volumeLock.Path != location.LockPath)
        {
            throw new InvalidOperationException($"A restore needs the volume lock {location.LockPath} held.");
        }

        if (backupName is not null)
        {
            InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), backupName);
        }

        // Refusing needs the full quick_check; a forced restore only needs to know whether the database
        // opens, to fold its WAL in before it is quarantined (a quick_check of 1 GiB costs about a second).
        if (!force && probe.Probe(location.DatabasePath).Condition == DatabaseCondition.Healthy)
        {
            throw new RestoreFailedException($"The database {location.DatabasePath} is healthy; refusing to replace it without --force.");
        }
    }
}
