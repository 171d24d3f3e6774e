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
public sealed class HistoryUploader(
    OffsiteConnector connector,
    BackupUploader backups,
    ReplicationActivity activity,
    IOptions<PersistenceOptions> options,
    TimeProvider time,
    ILogger<HistoryUploader> logger)
{
    /// <summary>How long the copy of a snapshot waits for another upload run to finish.</summary>
    public static readonly TimeSpan SnapshotLockWait = TimeSpan.FromMinutes(30);

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
                        delay = Replicator.RetryDelay;
                    }
                }

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

    /// <summary>
    /// How often the uploader checks, with one request, that the object it wrote last is still in a target: a deleted
    /// container or a lost snapshot is noticed within this long and what is missing uploaded again, while an idle
    /// database costs about <c>3600 / 360 = 10</c> requests an hour per target.
    /// </summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMinutes(6);

    /// <summary>
    /// Every <see cref="ProbeInterval"/>, reads the head of the object the state says was written last; <see langword="false"/>
    /// when it has gone (the state is then listed again, and what is missing uploaded again).
    /// </summary>
    private async Task<bool> StillThereAsync(DatabaseLocation location, OffsiteHistory remote, State state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (state.Probe is not { } probe || state.ProbedAt is { } probed && now - probed < ProbeInterval)
        {
            return true;
        }

        state.ProbedAt = now;
        if (await remote.Store.Objects.GetAsync(probe, cancellationToken).ConfigureAwait(false) is not null)
        {
            return true;
        }

        PersistenceLog.OffsiteObjectMissing(logger, probe, remote.Store.Container, location.DatabasePath);
        return false;
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
            var segments = local.Segments(generation.Id);
            var done = state.Uploaded.GetValueOrDefault(generation.Id);
            var pending = segments.Where(s => s.Sequence > done).TakeWhile(s => s.Manifest is not null).ToList();
            if (!state.Uploaded.ContainsKey(generation.Id))
            {
                // A generation the container has never seen: only from the last segment older than every backup
                // there (the anchor) on; anything earlier could never be replayed from it.
                if (generation.Id != current.Id && (pending.Count == 0 || pending[^1].Manifest!.LastCommitAt < state.OldestBackup))
                {
                    continue;
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

            // The level files merged since, so a restore from the container reads a few files too; those older than
            // every backup there could never be replayed from it.
            foreach (var level in local.Levels(generation.Id).Where(l => l.Manifest is { } m && m.LastCommitAt >= state.OldestBackup && !state.Levels.Contains(OffsiteHistory.FileBlob(m))))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var blob = OffsiteHistory.FileBlob(level.Manifest!);
                await remote.UploadSegmentAsync(level, cancellationToken).ConfigureAwait(false);
                state.Levels.Add(blob);
                state.Wrote(blob);
            }
        }

        if (snapshotMissing is not null)
        {
            throw new OffsiteUnavailableException(snapshotMissing);
        }

        return ready;
    }

    /// <summary>
    /// Segments of a generation are only restorable from its snapshot on. When the container's newest backup is
    /// older than the current generation's snapshot, starts copying the backups (as the backup timer does), beside
    /// the segments: a large backup can take minutes over a real network. Returns whether the snapshot is there,
    /// and why a finished copy failed.
    /// </summary>
    private async Task<(bool Ready, string? Problem)> SnapshotAsync(DatabaseLocation location, OffsiteHistory remote, State state, GenerationManifest current, SnapshotCopy snapshot, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (snapshot.Running is { } running && (snapshot.Wait || running.IsCompleted))
            {
                var result = await running.ConfigureAwait(false);
                snapshot.Running = null;
                await state.ListBackupsAsync(remote, cancellationToken).ConfigureAwait(false);
                if (result.Error is { } error && !state.Holds(current))
                {
                    return (false, $"the snapshot of generation {current.Id} could not be copied off the volume: {error}");
                }
            }

            if (state.Holds(current))
            {
                return (true, null);
            }

            if (snapshot.Running is not null)
            {
                return (false, null);
            }

            // Another upload run (the backup timer's) may hold the upload lock for minutes; it is waited for, not an error.
            snapshot.Running = backups.SyncAsync(location, SnapshotLockWait, cancellationToken: cancellationToken);
            if (!snapshot.Wait)
            {
                return (false, null);
            }
        }
    }

    /// <summary>A copy of the backups running beside the segment uploads.</summary>
    private sealed class SnapshotCopy
    {
        /// <summary>The copy in flight.</summary>
        public Task<OffsiteSyncResult>? Running { get; set; }

        /// <summary>Whether a pass waits for the copy (a one-off pass) rather than going on with the segments.</summary>
        public bool Wait { get; init; }

        /// <summary>Waits for a copy in flight to end (it stops when cancelled).</summary>
        public async Task StopAsync()
        {
            if (Running is { } running)
            {
                await running.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
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
        await remote.DeleteAsync(doomed.Segments.Select(s => s.Path), cancellationToken).ConfigureAwait(false);
        foreach (var generation in doomed.Generations)
        {
            // The record goes last: until then what is left is still a generation, missing its first segments.
            var blobs = listing.Blobs[generation.Id];
            await remote.DeleteAsync(blobs.Where(b => !b.EndsWith(ReplicationStore.GenerationFileName, StringComparison.Ordinal)), cancellationToken).ConfigureAwait(false);
            await remote.DeleteAsync([OffsiteHistory.GenerationBlob(generation.Id)], cancellationToken).ConfigureAwait(false);
        }

        ReplicationRetention.Log(logger, doomed, now - options.Value.Replication.RestoreWindow, $"container {remote.Store.Container}");
    }

    /// <summary>How many segments from the first follow each other by number with a readable record.</summary>
    private static int UnbrokenRun(IReadOnlyList<HistoryFile> segments)
    {
        var run = 0;
        while (run < segments.Count && segments[run].Manifest is not null && segments[run].Sequence == segments[0].Sequence + run)
        {
            run++;
        }

        return run;
    }

    /// <summary>What the container holds, as far as this uploader knows: kept in memory between passes, listed again after a failure.</summary>
    private sealed class State
    {
        /// <summary>Per generation, the highest segment number in the container.</summary>
        public Dictionary<string, long> Uploaded { get; } = new(StringComparer.Ordinal);

        /// <summary>The level files in the container, by object name.</summary>
        public HashSet<string> Levels { get; } = new(StringComparer.Ordinal);

        /// <summary>The newest complete backup's time in the container.</summary>
        public DateTimeOffset? NewestBackup { get; private set; }

        /// <summary>The object written last (or the newest one listed): if it has gone, the container has lost what this state says it holds.</summary>
        public string? Probe { get; set; }

        /// <summary>Whether anything was written since the last retention pass (an idle history needs none).</summary>
        public bool Changed { get; set; } = true;

        /// <summary>When the probe last found its object.</summary>
        public DateTimeOffset? ProbedAt { get; set; }

        /// <summary>Notes an object written.</summary>
        public void Wrote(string key)
        {
            Probe = key;
            Changed = true;
        }

        /// <summary>The oldest complete backup's time in the container (segments older than it are never needed).</summary>
        public DateTimeOffset OldestBackup { get; private set; } = DateTimeOffset.MinValue;

        public static async Task<State> ListAsync(OffsiteHistory remote, CancellationToken cancellationToken)
        {
            var state = new State();
            var listing = await remote.ListAsync(cancellationToken).ConfigureAwait(false);
            foreach (var generation in listing.Generations)
            {
                // Only an unbroken run counts as uploaded: a gap left by an interrupted pass is filled again.
                var segments = listing.SegmentsOf(generation.Id);
                var run = UnbrokenRun(segments);
                state.Uploaded[generation.Id] = segments.Count == 0 ? 0 : segments[0].Sequence - 1 + run;
                state.Probe = state.Uploaded[generation.Id] == 0 ? OffsiteHistory.GenerationBlob(generation.Id) : OffsiteHistory.SegmentBlob(generation.Id, state.Uploaded[generation.Id]);
                state.Levels.UnionWith(listing.LevelsOf(generation.Id).Select(l => l.Path));
            }

            await state.ListBackupsAsync(remote, cancellationToken).ConfigureAwait(false);
            return state;
        }

        /// <summary>Whether the container holds a backup at least as new as <paramref name="generation"/>'s snapshot.</summary>
        public bool Holds(GenerationManifest generation) => NewestBackup is { } newest && newest >= generation.BaseBackupTimestamp;

        /// <summary>Reads the newest and oldest complete backup in the container.</summary>
        public async Task ListBackupsAsync(OffsiteHistory remote, CancellationToken cancellationToken)
        {
            var complete = (await remote.Store.ListAsync(cancellationToken).ConfigureAwait(false)).Where(b => b.IsComplete).ToList();
            NewestBackup = complete.FirstOrDefault()?.TakenAt;
            OldestBackup = complete.Count == 0 ? DateTimeOffset.MinValue : complete.Min(b => b.TakenAt);
        }
    }
}
