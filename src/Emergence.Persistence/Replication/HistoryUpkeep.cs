using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The replicator's upkeep of the history beside its polls: merging closed files into their levels on a background
/// thread, the space budget, the prune, and what the audit and the window's measure record for health.
/// </summary>
internal sealed class HistoryUpkeep(ReplicationActivity activity, TimeProvider time, ILogger logger, PersistenceMetrics? metrics)
{
    private HistoryBudget.Thinned? _thinned;
    private string? _compactedFor;

    /// <summary>One replication run's upkeep: when it last pruned and merged, and the merge in flight.</summary>
    public sealed class Schedule
    {
        public DateTimeOffset LastPrune { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset LastCompaction { get; set; } = DateTimeOffset.MinValue;

        public Task Compacting { get; set; } = Task.CompletedTask;
    }

    /// <summary>
    /// The history's upkeep at a step, with no compaction pass reading the files: the space budget (two stat calls when
    /// there is room), and at a poll every <see cref="Replicator.PruneInterval"/> the prune, the audit and the window's measure.
    /// </summary>
    public void Keep(DatabaseLocation location, ReplicationOptions settings, string generation, bool polling, Schedule run)
    {
        using var span = PersistenceActivities.Start(PersistenceActivities.Upkeep);
        var pruning = polling && time.GetUtcNow() - run.LastPrune >= Replicator.PruneInterval;
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
    /// After a failure, before the next try: a full volume (the segment being filled could not be written, or the next
    /// session's snapshot had no room) is the one failure the history itself can mend, and no session runs to thin it.
    /// The generation being written (or the newest) keeps everything from its newest base on.
    /// </summary>
    public void ThinBeforeRetry(DatabaseLocation location, string? current, Task compacting, ReplicationOptions settings)
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
            PersistenceLog.ReplicationFailed(logger, ex, location.DatabasePath, ex.Message, (int)Replicator.RetryDelay.TotalSeconds);
        }
    }

    /// <summary>
    /// Every <see cref="Replicator.CompactionInterval"/> (when the last pass is done), merges closed history files into their levels
    /// beside the polls: the current generation's, and every other generation's last periods, which no later file closes.
    /// </summary>
    public Task CompactInBackground(DatabaseLocation location, string current, Schedule run, CancellationToken cancellationToken)
    {
        if (!run.Compacting.IsCompleted || time.GetUtcNow() - run.LastCompaction < Replicator.CompactionInterval)
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

    /// <summary>
    /// Records for health what is damaged or missing in <paramref name="histories"/>, with the newest point still
    /// provable there; returns the sentence (<see langword="null"/>: nothing).
    /// </summary>
    public string? Audit(DatabaseLocation location, IReadOnlyList<History> histories)
    {
        var damaged = histories
            .Where(h => h.Generation.IsProvable && h.Problem is not null)
            .Select(h => $"generation {h.Generation.Id}: {h.Problem}; its newest provable point is {UtcMillisecondsConverter.Format(h.TimeOf(h.Run.Count))}")
            .ToList();
        var problem = damaged.Count == 0 ? null : string.Join("; ", damaged);
        activity.Update(location.BackupDirectory, location.DatabasePath, previous => (previous ?? ReplicationActivity.ReplicationState.Empty(time.GetUtcNow())) with { HistoryProblem = problem, DatabasePath = location.DatabasePath });
        return problem;
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

    /// <summary>How far back a point can be restored now: from the oldest provable window's start to now.</summary>
    private void MeasureWindow(IReadOnlyList<History> histories)
    {
        var windows = Timeline.Windows(histories).Where(w => w.Segments > 0 || w.Problem is null).ToList();
        if (windows.Count > 0)
        {
            metrics?.RestoreWindowMeasured(time.GetUtcNow() - windows.Min(w => w.From));
        }
    }
}
