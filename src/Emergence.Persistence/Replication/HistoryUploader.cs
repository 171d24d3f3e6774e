using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Copies closed segments to the off-volume container beside the replicator, when off-volume copies are
/// configured: every interval it uploads each generation's record and then its new whole segments in order,
/// each verified before and after (see <see cref="OffsiteHistory"/>). A generation is only restorable off
/// the volume from its snapshot on, so when the container's newest backup is older than the current
/// generation's snapshot the local backups are copied too, beside the segments, and the container counts as
/// caught up only once the snapshot is there. Every <see cref="Replicator.PruneInterval"/>
/// it deletes the segments no backup in the container can use. A failure is logged, recorded for health and
/// retried; what is already in the container is found again by listing it.
/// </summary>
public sealed partial class HistoryUploader(
    OffsiteConnector connector,
    BackupUploader backups,
    ReplicationActivity activity,
    IOptions<PersistenceOptions> options,
    TimeProvider time,
    ILogger<HistoryUploader> logger)
{
    /// <summary>Raised after each pass that left every whole segment in the container (for tests).</summary>
    public event Action<DateTimeOffset>? CaughtUp;

    /// <summary>
    /// Runs until cancelled; returns at once when off-volume copies are off. With two targets each gets every
    /// segment: a pass goes to one and then the other, a failure of one is recorded naming it and retried without
    /// holding back the other, and the history counts as off the volume only up to where both have it.
    /// </summary>
    public async Task RunAsync(DatabaseLocation location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var remotes = connector.Targets(location).Select(store => new OffsiteHistory(store, location.DatabasePath)).ToList();
        if (remotes.Count == 0)
        {
            return;
        }

        var local = new ReplicationStore(location.BackupDirectory);
        var states = new State?[remotes.Count];
        var snapshot = new SnapshotCopy();
        var lastPrune = time.GetUtcNow();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var started = time.GetUtcNow();
                var delay = options.Value.Replication.Interval;
                var prune = time.GetUtcNow() - lastPrune >= Replicator.PruneInterval;
                var (ready, failure) = await PassAsync(location, local, remotes, states, snapshot, started, prune, cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                if (prune)
                {
                    lastPrune = time.GetUtcNow();
                }

                if (failure is not null)
                {
                    activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(started)) with { OffsiteLastError = failure });
                    delay = Replicator.RetryDelay;
                }
                else if (ready)
                {
                    CaughtUpAt(location, started);
                }

                try
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await snapshot.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One pass of <see cref="RunAsync"/> to every target in turn, each from what is known of it (listed again when
    /// unknown or when its probe found the last object gone), and its retention when <paramref name="prune"/> is due.
    /// A target that fails is logged and forgotten, so the next pass lists it again, without holding back the others.
    /// Returns whether every target holds the current generation's snapshot, and the first failure (naming its target
    /// when there are two); stops early, with nothing recorded, once cancelled.
    /// </summary>
    private async Task<(bool Ready, string? Failure)> PassAsync(DatabaseLocation location, ReplicationStore local, List<OffsiteHistory> remotes, State?[] states, SnapshotCopy snapshot, DateTimeOffset started, bool prune, CancellationToken cancellationToken)
    {
        var ready = true;
        string? failure = null;
        for (var i = 0; i < remotes.Count; i++)
        {
            var remote = remotes[i];
            try
            {
                if (states[i] is { } known && !await StillThereAsync(location, remote, known, started, cancellationToken).ConfigureAwait(false))
                {
                    states[i] = null;
                }

                var state = states[i] ??= await State.ListAsync(remote, cancellationToken).ConfigureAwait(false);
                state.ProbedAt ??= started;
                ready &= await UploadPendingAsync(location, local, remote, state, snapshot, cancellationToken).ConfigureAwait(false);
                if (prune && state.Changed)
                {
                    // Retention only has work after something was written: an idle history costs no listing.
                    await PruneAsync(location, remote, cancellationToken).ConfigureAwait(false);
                    state.Changed = false;
                }
            }
            catch (Exception ex) when (ex is OffsiteUnavailableException or IOException or UnauthorizedAccessException && cancellationToken.IsCancellationRequested)
            {
                // Stopping: a request cut off by the cancellation is no failure to record.
                break;
            }
            catch (Exception ex) when (ex is OffsiteUnavailableException or IOException or UnauthorizedAccessException)
            {
                var retry = (int)Replicator.RetryDelay.TotalSeconds;
                PersistenceLog.SegmentUploadFailed(logger, ex, location.DatabasePath, remote.Store.Container, ex.Message, retry);
                failure ??= remotes.Count == 1 ? ex.Message : $"{BackupUploader.Describe(remote.Store)}: {ex.Message}";
                states[i] = null;
                ready = false;
            }
        }

        return (ready, failure);
    }

    /// <summary>
    /// One pass to every target from a fresh listing of each, then its retention: what <see cref="RunAsync"/> does every
    /// interval (and every <see cref="Replicator.PruneInterval"/>). Returns <see langword="false"/> when off-volume
    /// copies are off.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A target could not be read or written; nothing in it is half-written.</exception>
    public async Task<bool> SyncAsync(DatabaseLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var targets = connector.Targets(location);
        if (targets.Count == 0)
        {
            return false;
        }

        var started = time.GetUtcNow();
        var ready = true;
        foreach (var store in targets)
        {
            var remote = new OffsiteHistory(store, location.DatabasePath);
            var state = await State.ListAsync(remote, cancellationToken).ConfigureAwait(false);
            ready &= await UploadPendingAsync(location, new ReplicationStore(location.BackupDirectory), remote, state, new SnapshotCopy { Wait = true }, cancellationToken).ConfigureAwait(false);
            await PruneAsync(location, remote, cancellationToken).ConfigureAwait(false);
        }

        if (ready)
        {
            CaughtUpAt(location, started);
        }

        return true;
    }

    /// <summary>Records that every segment closed before <paramref name="started"/> is off the volume, in every target, and restorable.</summary>
    private void CaughtUpAt(DatabaseLocation location, DateTimeOffset started)
    {
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(started)) with { OffsiteCaughtUpAt = started, OffsiteLastError = null });
        CaughtUp?.Invoke(started);
    }

    /// <summary>Uploads the new records and segments; returns whether the current generation's snapshot is in the container.</summary>
    /// <exception cref="OffsiteUnavailableException">A request failed, or the copy of the snapshot did (after the segments were uploaded).</exception>
    private async Task<bool> UploadPendingAsync(DatabaseLocation location, ReplicationStore local, OffsiteHistory remote, State state, SnapshotCopy snapshot, CancellationToken cancellationToken)
    {
        var generations = local.Generations(location.DatabasePath);
        if (generations.Count == 0)
        {
            return true;
        }

        var current = generations[^1];
        var (ready, snapshotMissing) = await SnapshotAsync(location, remote, state, current, snapshot, cancellationToken).ConfigureAwait(false);

        foreach (var generation in generations)
        {
            await UploadGenerationAsync(location, local, remote, state, generation, current, cancellationToken).ConfigureAwait(false);
        }

        if (snapshotMissing is not null)
        {
            throw new OffsiteUnavailableException(snapshotMissing);
        }

        return ready;
    }

    /// <summary>
    /// Uploads what the container lacks of one generation: its record when the container has never seen it (from the
    /// anchor on, or nothing when no segment after it can be replayed there), its segments in order, then the level
    /// files merged since.
    /// </summary>
    private async Task UploadGenerationAsync(DatabaseLocation location, ReplicationStore local, OffsiteHistory remote, State state, GenerationManifest generation, GenerationManifest current,
        CancellationToken cancellationToken)
    {
        var segments = local.Segments(generation.Id);
        var done = state.Uploaded.GetValueOrDefault(generation.Id);
        var pending = segments.Where(s => s.Sequence > done).TakeWhile(s => s.Manifest is not null).ToList();
        if (!state.Uploaded.ContainsKey(generation.Id))
        {
            // A generation the container has never seen: only from the last segment older than every backup
            // there (the anchor) on; anything earlier could never be replayed from it.
            if (generation.Id != current.Id && (pending.Count == 0 || pending[^1].Manifest!.LastCommitAt < state.OldestBackup))
            {
                return;
            }

            var anchor = pending.FindLastIndex(s => s.Manifest!.LastCommitAt < state.OldestBackup);
            pending = pending.Skip(Math.Max(anchor, 0)).ToList();
            await remote.UploadGenerationAsync(local, generation, cancellationToken).ConfigureAwait(false);
            state.Uploaded[generation.Id] = 0;
            state.Wrote(OffsiteHistory.GenerationBlob(generation.Id));
            PersistenceLog.GenerationUploaded(logger, generation.Id, location.DatabasePath, remote.Store.Container, generation.BaseBackup);
        }

        foreach (var segment in pending)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await remote.UploadSegmentAsync(segment, cancellationToken).ConfigureAwait(false);
            state.Uploaded[generation.Id] = segment.Sequence;
            state.Wrote(OffsiteHistory.SegmentBlob(generation.Id, segment.Sequence));
        }

        // The level files merged since (the minute level and coarser), so a restore from the container reads a few
        // files too; those older than every backup there could never be replayed from it.
        foreach (var level in local.Levels(generation.Id).Where(l => l.Manifest is { } m && m.LevelOrZero >= HistoryLevels.FinestOffVolume
            && m.LastCommitAt >= state.OldestBackup && !state.Levels.Contains(OffsiteHistory.FileBlob(m))))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var blob = OffsiteHistory.FileBlob(level.Manifest!);
            await remote.UploadSegmentAsync(level, cancellationToken).ConfigureAwait(false);
            state.Levels.Add(blob);
            state.Wrote(blob);
        }
    }

    /// <summary>Deletes from the container the segments and generations no complete backup there can use.</summary>
    private async Task PruneAsync(DatabaseLocation location, OffsiteHistory remote, CancellationToken cancellationToken)
    {
        var complete = (await remote.Store.ListAsync(cancellationToken).ConfigureAwait(false)).Where(b => b.IsComplete).ToList();
        if (complete.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var listing = await remote.ListAsync(cancellationToken).ConfigureAwait(false);
        var generations = new ReplicationStore(location.BackupDirectory).Generations(location.DatabasePath);
        var current = generations.Count == 0 ? null : generations[^1].Id;
        var doomed = ReplicationRetention.Select(listing.Generations, listing.FilesOf, [.. complete.Select(b => b.Manifest!)], current, now, options.Value.Replication);
        await remote.DeleteAsync(doomed.Segments.Select(s => s.ObjectName), cancellationToken).ConfigureAwait(false);
        foreach (var generation in doomed.Generations)
        {
            // The record goes last: until then what is left is still a generation, missing its first segments.
            var blobs = listing.Blobs[generation.Id];
            await remote.DeleteAsync(blobs.Where(b => !b.EndsWith(ReplicationStore.GenerationFileName, StringComparison.Ordinal)), cancellationToken).ConfigureAwait(false);
            await remote.DeleteAsync([OffsiteHistory.GenerationBlob(generation.Id)], cancellationToken).ConfigureAwait(false);
        }

        ReplicationRetention.Log(logger, doomed, now - options.Value.Replication.RestoreWindow, $"container {remote.Store.Container}");
    }
}
