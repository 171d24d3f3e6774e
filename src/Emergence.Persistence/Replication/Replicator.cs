using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Replicates one database until cancelled: resumes or starts a generation, polls its log every
/// <see cref="ReplicationOptions.Interval"/> (stepping along it every <see cref="TailInterval"/> between polls), starts a new generation (from a fresh backup) when the history
/// breaks, retries after failures, and records its state for health; beside it a <see cref="HistoryUploader"/>
/// copies closed segments off the volume. The function app runs it as a hosted
/// service; <c>emergence-db replicate</c> runs it in the foreground.
/// </summary>
public sealed class Replicator(
    SqliteConnectionFactory connections,
    BackupService backups,
    IOptions<PersistenceOptions> options,
    ReplicationActivity activity,
    HistoryUploader uploader,
    TimeProvider time,
    ILogger<Replicator> logger,
    Metrics.PersistenceMetrics? metrics = null)
{
    /// <summary>How long to wait after a failure before trying again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>How often the session steps along the log between polls: copying what is new and checkpointing past the threshold.</summary>
    public static readonly TimeSpan TailInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the history no point of the restore window needs is deleted.</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(10);

    /// <summary>How often closed history files are merged into their levels: the finest level's span.</summary>
    public static readonly TimeSpan CompactionInterval = HistoryLevels.All[0].Span;

    private HistoryBudget.Thinned? _thinned;
    private string? _compactedFor;

    /// <summary>Raised after each successful poll (for the off-volume upload and for tests).</summary>
    public event Action<ReplicationSession.PollResult>? Polled;

    /// <summary>The lock one replicator per backup directory holds while it runs.</summary>
    public static string LockPathFor(DatabaseLocation location) =>
        Path.Combine(new ReplicationStore(location?.BackupDirectory ?? throw new ArgumentNullException(nameof(location))).Root, ".replicate.lock");

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; first waits for the replication lock (another replicator of this backup directory).</summary>
    public async Task RunAsync(DatabaseLocation location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        Directory.CreateDirectory(new ReplicationStore(location.BackupDirectory).Root);
        using var held = await VolumeLock.AcquireAsync(LockPathFor(location), TimeSpan.MaxValue, logger, time, cancellationToken).ConfigureAwait(false);
        var settings = options.Value.Replication;
        // Closed segments go off the volume beside the polls (when a container is configured).
        var uploading = Task.Run(() => uploader.RunAsync(location, cancellationToken), CancellationToken.None);
        try
        {
            await ReplicateAsync(location, settings, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await uploading.ConfigureAwait(false);
        }
    }

    private async Task ReplicateAsync(DatabaseLocation location, ReplicationOptions settings, CancellationToken cancellationToken)
    {
        var run = new RunState();
        while (!cancellationToken.IsCancellationRequested)
        {
            ReplicationSession? session = null;
            try
            {
                session = await ReplicationSession.OpenAsync(location, connections, backups, time, logger, settings.CheckpointBytes, run.After, cancellationToken).ConfigureAwait(false);
                if (!session.Resumed)
                {
                    metrics?.GenerationStarted(run.After is null ? (session.Generation.After is null ? "first" : "unproven") : "broken");
                }

                run.After = null;
                await FollowAsync(location, settings, session, run, cancellationToken).ConfigureAwait(false);
            }
            catch (ReplicationBrokenException ex)
            {
                PersistenceLog.ReplicationGenerationEnded(logger, location.DatabasePath, session?.Generation.Id ?? "(none)", ex.Message);
                run.After = ex.Message;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException or BackupFailedException or InvalidOperationException)
            {
                if (!await RetryAfterAsync(location, ex, session?.Generation.Id, run, settings, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            finally
            {
                session?.Dispose();
            }
        }

        try
        {
            await run.Compacting.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A compaction pass stopped between files by the same cancellation: what it wrote is whole, the rest waits.
        }
    }

    /// <summary>What the replication loop carries from one session to the next.</summary>
    private sealed class RunState
    {
        /// <summary>Why the last generation ended, when the history broke (the next one starts after it).</summary>
        public string? After { get; set; }

        public long HighWater { get; set; }

        public DateTimeOffset LastPrune { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset LastCompaction { get; set; } = DateTimeOffset.MinValue;

        public Task Compacting { get; set; } = Task.CompletedTask;
    }

    /// <summary>
    /// Follows the log with <paramref name="session"/> until it breaks, fails or is cancelled: a poll every
    /// <see cref="ReplicationOptions.Interval"/>, a step every <see cref="TailInterval"/> between them, and the history's
    /// upkeep (compaction beside the polls, the space budget at every step, the prune every <see cref="PruneInterval"/>).
    /// </summary>
    private async Task FollowAsync(DatabaseLocation location, ReplicationOptions settings, ReplicationSession session, RunState run, CancellationToken cancellationToken)
    {
        var due = time.GetTimestamp();
        while (true)
        {
            var started = time.GetTimestamp();
            var polling = time.GetElapsedTime(due, started) >= TimeSpan.Zero;
            ReplicationSession.PollResult? result;
            using (PersistenceActivities.Start(polling ? PersistenceActivities.Poll : PersistenceActivities.Step))
            {
                result = polling ? session.Poll() : session.Tail();
            }

            if (result is not null)
            {
                foreach (var written in result.Segments)
                {
                    metrics?.SegmentWritten(written.Size);
                }

                run.HighWater = Math.Max(run.HighWater, session.LogHighWaterBytes);
                Record(location, session, result, null, run.HighWater);
                Polled?.Invoke(result);
            }

            if (polling)
            {
                // Polls start an interval apart; a poll that took longer is followed by the next at once.
                due = started + (long)(settings.Interval.TotalSeconds * time.TimestampFrequency);
                run.Compacting = CompactInBackground(location, session.Generation.Id, run, cancellationToken);
            }

            if (run.Compacting.IsCompleted)
            {
                KeepHistory(location, settings, session.Generation.Id, polling, run);
            }

            // Between polls the session steps along the log every TailInterval, so that a fast writer's log
            // is checkpointed near the threshold rather than a whole interval's growth past it.
            var untilPoll = time.GetElapsedTime(time.GetTimestamp(), due);
            var rest = untilPoll < TailInterval ? untilPoll : TailInterval - time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, time, cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// The history's upkeep at a step, with no compaction pass reading the files: the space budget (two stat calls when
    /// there is room), and at a poll every <see cref="PruneInterval"/> the prune, the audit and the window's measure.
    /// </summary>
    private void KeepHistory(DatabaseLocation location, ReplicationOptions settings, string generation, bool polling, RunState run)
    {
        using var span = PersistenceActivities.Start(PersistenceActivities.Upkeep);
        var pruning = polling && time.GetUtcNow() - run.LastPrune >= PruneInterval;
        if (pruning)
        {
            ReplicationRetention.Prune(location, time.GetUtcNow(), generation, settings, logger);
        }

        // Checked at every step: a busy writer's history can take a small volume's free space in far less than the
        // 10 minutes between prunes, and the segment being filled between polls must not be the write that finds the
        // volume full.
        var thinned = HistoryBudget.Thin(location, HistoryBudget.FreeBytes(location.BackupDirectory), generation, time.GetUtcNow(), settings, logger);
        if (pruning)
        {
            var histories = History.ReadAll(location.BackupDirectory, location.DatabasePath);
            Audit(location, histories);
            MeasureWindow(histories);
            run.LastPrune = time.GetUtcNow();
        }

        if (pruning || thinned is not null)
        {
            RecordThinning(location, thinned, settings);
        }
    }

    /// <summary>
    /// After a failure: logs it, records it for health, thins the history when the volume is full, and waits
    /// <see cref="RetryDelay"/>. False when cancelled while waiting.
    /// </summary>
    private async Task<bool> RetryAfterAsync(DatabaseLocation location, Exception ex, string? generation, RunState run, ReplicationOptions settings, CancellationToken cancellationToken)
    {
        var retry = (int)RetryDelay.TotalSeconds;
        PersistenceLog.ReplicationFailed(logger, ex, location.DatabasePath, ex.Message, retry);
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(time.GetUtcNow())) with { LastError = ex.Message, RecordedAt = time.GetUtcNow() });
        ThinBeforeRetry(location, generation, run.Compacting, settings);
        try
        {
            await Task.Delay(RetryDelay, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// After a failure, before the next try: a full volume (the segment being filled could not be written, or the next
    /// session's snapshot had no room) is the one failure the history itself can mend, and no session runs to thin it.
    /// The generation being written (or the newest) keeps everything from its newest base on.
    /// </summary>
    private void ThinBeforeRetry(DatabaseLocation location, string? current, Task compacting, ReplicationOptions settings)
    {
        if (!compacting.IsCompleted)
        {
            return; // a merge is reading the files; the next try comes back here
        }

        try
        {
            current ??= new ReplicationStore(location.BackupDirectory).Generations(location.DatabasePath) is [.., var newest] ? newest.Id : null;
            if (HistoryBudget.Thin(location, HistoryBudget.FreeBytes(location.BackupDirectory), current, time.GetUtcNow(), settings, logger) is { } thinned)
            {
                RecordThinning(location, thinned, settings);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            PersistenceLog.ReplicationFailed(logger, ex, location.DatabasePath, ex.Message, (int)RetryDelay.TotalSeconds);
        }
    }

    /// <summary>
    /// Every <see cref="CompactionInterval"/> (when the last pass is done), merges closed history files into their levels
    /// beside the polls: the current generation's, and every other generation's last periods, which no later file closes.
    /// </summary>
    private Task CompactInBackground(DatabaseLocation location, string current, RunState run, CancellationToken cancellationToken)
    {
        if (!run.Compacting.IsCompleted || time.GetUtcNow() - run.LastCompaction < CompactionInterval)
        {
            return run.Compacting;
        }

        var others = !string.Equals(_compactedFor, current, StringComparison.Ordinal);
        _compactedFor = current;
        run.LastCompaction = time.GetUtcNow();
        // Compression is the replicator's one long use of a core: on a busy machine the app's writer goes first.
        return BackgroundThread.Run("history compaction", () =>
        {
            using var span = PersistenceActivities.Start(PersistenceActivities.Compaction);
            var store = new ReplicationStore(location.BackupDirectory);
            foreach (var generation in store.Generations(location.DatabasePath))
            {
                if (generation.Id == current || others)
                {
                    foreach (var written in HistoryCompactor.Compact(store, generation, closed: generation.Id != current, logger, cancellationToken))
                    {
                        metrics?.LevelFileWritten(written.LevelOrZero, written.Size);
                    }
                }
            }
        });
    }

    /// <summary>Records for health whether the window is shorter than the setting because the history was thinned.</summary>
    private void RecordThinning(DatabaseLocation location, HistoryBudget.Thinned? thinned, ReplicationOptions settings)
    {
        if (thinned is not null)
        {
            _thinned = thinned;
        }

        var sentence = _thinned is { } t ? HistoryBudget.Sentence(t, time.GetUtcNow(), settings) : null;
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(time.GetUtcNow())) with { WindowProblem = sentence, DatabasePath = location.DatabasePath });
    }

    /// <summary>
    /// Reads every generation's records and files (sizes, not contents) and records for health what is damaged or
    /// missing, with the newest point still provable there; a restore's windows end at the same place.
    /// </summary>
    public string? Audit(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return Audit(location, History.ReadAll(location.BackupDirectory, location.DatabasePath));
    }

    private string? Audit(DatabaseLocation location, IReadOnlyList<History> histories)
    {
        var damaged = histories
            .Where(h => h.Generation.IsProvable && h.Problem is not null)
            .Select(h => $"generation {h.Generation.Id}: {h.Problem}; its newest provable point is {UtcMillisecondsConverter.Format(h.TimeOf(h.Run.Count))}")
            .ToList();
        var problem = damaged.Count == 0 ? null : string.Join("; ", damaged);
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(time.GetUtcNow())) with { HistoryProblem = problem, DatabasePath = location.DatabasePath });
        return problem;
    }

    /// <summary>How far back a point can be restored now: from the oldest provable window's start to now.</summary>
    private void MeasureWindow(IReadOnlyList<History> histories)
    {
        var windows = Timeline.Windows(histories).Where(w => w.Segments > 0 || w.Problem is null).ToList();
        if (windows.Count > 0)
        {
            metrics?.RestoreWindowMeasured(time.GetUtcNow() - windows.Min(w => w.From));
        }
    }

    private void Record(DatabaseLocation location, ReplicationSession session, ReplicationSession.PollResult result, string? error, long highWater) =>
        activity.Update(location.BackupDirectory, location.DatabasePath, previous =>
        {
            var same = previous?.Generation == session.Generation.Id;
            return new ReplicationActivity.ReplicationState(
                session.Generation.Id,
                result.CaughtUpAt,
                result.Segment?.Filename ?? (same ? previous!.LastSegment : null),
                result.Segment?.LastCommitAt ?? (same ? previous!.LastSegmentAt : null),
                previous?.OffsiteCaughtUpAt,
                error,
                time.GetUtcNow(),
                result.LogBytes,
                highWater,
                previous?.OffsiteLastError,
                location.DatabasePath,
                previous?.HistoryProblem)
            { WindowProblem = previous?.WindowProblem };
        });
}
