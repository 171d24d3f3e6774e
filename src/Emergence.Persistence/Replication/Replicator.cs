using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Replicates one database until cancelled: resumes or starts a generation, polls its log every
/// <see cref="ReplicationOptions.Interval"/> (stepping along it every <see cref="TailInterval"/> between polls), starts a new generation (from a fresh backup) when the history
/// breaks, retries after failures, and records its state for health; between polls a <see cref="HistoryUpkeep"/> merges,
/// prunes and thins the history, and beside it a <see cref="HistoryUploader"/> copies closed segments off the volume. The function app runs it as a hosted
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

    private readonly HistoryUpkeep _upkeep = new(activity, time, logger, metrics);

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
            await run.Upkeep.Compacting.ConfigureAwait(false);
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

        /// <summary>When this run last pruned and merged the history, and the merge in flight.</summary>
        public HistoryUpkeep.Schedule Upkeep { get; } = new();
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
                run.Upkeep.Compacting = _upkeep.CompactInBackground(location, session.Generation.Id, run.Upkeep, cancellationToken);
            }

            if (run.Upkeep.Compacting.IsCompleted)
            {
                _upkeep.Keep(location, settings, session.Generation.Id, polling, run.Upkeep);
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
    /// After a failure: logs it, records it for health, thins the history when the volume is full, and waits
    /// <see cref="RetryDelay"/>. False when cancelled while waiting.
    /// </summary>
    private async Task<bool> RetryAfterAsync(DatabaseLocation location, Exception ex, string? generation, RunState run, ReplicationOptions settings, CancellationToken cancellationToken)
    {
        var retry = (int)RetryDelay.TotalSeconds;
        PersistenceLog.ReplicationFailed(logger, ex, location.DatabasePath, ex.Message, retry);
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(time.GetUtcNow())) with { LastError = ex.Message, RecordedAt = time.GetUtcNow() });
        _upkeep.ThinBeforeRetry(location, generation, run.Upkeep.Compacting, settings);
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
    /// Reads every generation's records and files (sizes, not contents) and records for health what is damaged or
    /// missing, with the newest point still provable there; a restore's windows end at the same place.
    /// </summary>
    public string? Audit(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return _upkeep.Audit(location, History.ReadAll(location.BackupDirectory, location.DatabasePath));
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
