using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Persistence.Replication;

/// <summary>
/// What can be restored: each generation's window (from its snapshot to the end of its provable run) and, for a
/// target, the plans that reach it. Position, not time, decides what is applied: a backup is a base of a
/// generation when the log point its content holds is in that generation's history (or its content checksum is
/// one of the history's), and a plan applies exactly the segments after that point. Times only choose the
/// target point: the newest point seen at or before the time asked, within one generation whose times never go
/// back.
/// </summary>
public static class Timeline
{
    /// <summary>One window of provable history.</summary>
    /// <param name="Generation">Its generation.</param>
    /// <param name="From">Its snapshot's time: the earliest point it restores to.</param>
    /// <param name="To">The last commit of its provable run: the latest point.</param>
    /// <param name="Segments">How many segments that run holds.</param>
    /// <param name="Problem">Why the run ends before the newest segment, when it does.</param>
    /// <param name="EndedAt">When a restore replaced the database and so ended the generation, if one did.</param>
    public sealed record Window(string Generation, DateTimeOffset From, DateTimeOffset To, int Segments, string? Problem, DateTimeOffset? EndedAt = null);

    /// <summary>What to restore for a target: a verified backup and the segments that follow the point its content holds.</summary>
    /// <param name="Backup">The backup to start from.</param>
    /// <param name="Manifest">Its manifest.</param>
    /// <param name="Generation">The generation whose segments follow it, when one does.</param>
    /// <param name="Segments">The segments to replay, in order (possibly none).</param>
    /// <param name="Skip">The log point inside the first segment that the backup already holds (its frames up to there are checked, not applied), or <see langword="null"/>.</param>
    /// <param name="BaseHash">The content checksum the backup holds, as the history knows it.</param>
    /// <param name="ReachedAt">The time of the point the plan reaches.</param>
    /// <param name="Problem">Why the plan stops short of the generation's newest segments (its provable run ends early), when it does.</param>
    /// <param name="StopsBefore">The segment it stops before then.</param>
    /// <typeparam name="TBackup">A backup on the volume or in the off-volume container.</typeparam>
    public sealed record Plan<TBackup>(TBackup Backup, BackupManifest Manifest, GenerationManifest? Generation, IReadOnlyList<HistoryFile> Segments, WalPosition? Skip, ulong? BaseHash, DateTimeOffset ReachedAt, string? Problem = null, string? StopsBefore = null)
    {
        /// <summary>
        /// Whether the plan crosses points of the history by coarser files than a plan along the run at its finest (level
        /// files beside the run, or a run read coarsest first, <see cref="History.Partial"/>): a replay of it that stops
        /// early then fails it, and a plan along the finer files follows it.
        /// </summary>
        public bool FinerFollows { get; init; }
    }

    /// <summary>The windows of a database's generations under a backup directory, oldest first.</summary>
    public static IReadOnlyList<Window> Windows(string backupDirectory, string databasePath) => Windows(History.ReadAll(backupDirectory, databasePath));

    /// <summary>The windows of <paramref name="histories"/>.</summary>
    public static IReadOnlyList<Window> Windows(IReadOnlyList<History> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        return [.. histories.Select(h => new Window(h.Generation.Id, h.Generation.IsProvable ? h.TimeOf(0) : h.Generation.BaseBackupTimestamp, h.TimeOf(h.Run.Count), h.Run.Count, h.Problem, h.Ended?.At))];
    }

    /// <summary>
    /// Where <paramref name="manifest"/>'s content lies in <paramref name="history"/>: the index of the first segment
    /// of the run it does not wholly hold, and the point inside that segment it holds (when it holds part of it);
    /// <see langword="null"/> when the backup is not a state of this history.
    /// </summary>
    public static (int Index, WalPosition? Skip)? BaseIn(History history, BackupManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(manifest);
        return BasePlacement.Find(history, manifest);
    }

    /// <summary>
    /// Whether the log point <paramref name="manifest"/> was pinned at decides <see cref="BaseIn"/> within
    /// <paramref name="history"/>'s run as read (a file of the run holds it, or shows it is no point of the run): then
    /// the same answer holds for any longer read of the run, since the first file that decides it is the same.
    /// </summary>
    public static bool PlacedByLogPoint(History history, BackupManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(manifest);
        return BasePlacement.DecidedByLogPoint(history, manifest);
    }

    /// <summary>
    /// Every plan for restoring to <paramref name="target"/> (<see langword="null"/>: the newest point), best first.
    /// For each generation that holds states at or before the target (newest first; a generation ended by a restore
    /// holds none from the restore on), the target point is its newest point seen at or before the target, and
    /// each backup whose content is a state of that generation at or before the point is a base, newest base first.
    /// Backups that are states of none of the generations are plans of their own (no replay) when taken at or before
    /// the target. Generations come in the order they were started, newest first, never by their clock-given times; a
    /// backup of none goes before them only when the backup directory's own order and its time both say it is newer.
    /// Each base's own state follows as the last resort.
    /// </summary>
    /// <param name="candidates">Verified backups, newest first.</param>
    /// <param name="manifestOf">A backup's manifest.</param>
    /// <param name="takenAt">A backup's time.</param>
    /// <param name="histories">The generations' histories, oldest first.</param>
    /// <param name="target">The time asked, or <see langword="null"/> for the newest point.</param>
    /// <param name="demoted">Backups tried only after every other plan, in their order (suspect ones, those stamped in the future).</param>
    public static IReadOnlyList<Plan<TBackup>> PlansFor<TBackup>(IReadOnlyList<TBackup> candidates, Func<TBackup, BackupManifest> manifestOf, Func<TBackup, DateTimeOffset> takenAt,
        IReadOnlyList<History> histories, DateTimeOffset? target, Func<TBackup, bool>? demoted = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(manifestOf);
        ArgumentNullException.ThrowIfNull(takenAt);
        ArgumentNullException.ThrowIfNull(histories);
        var plans = new List<Plan<TBackup>>();
        var alone = new List<Plan<TBackup>>();
        var based = new HashSet<int>();
        foreach (var history in histories.Reverse())
        {
            if (history.Generation.IsProvable)
            {
                PlansIn(history, candidates, manifestOf, takenAt, target, based, plans, alone);
            }
        }

        // Generations in the order they were started (never by their clock-given times); within one, the newest base first.
        // A backup of no generation goes before them only when it was written after the newest generation's snapshot
        // (by the backup directory's own order, not a clock) and stamped after the point that generation reaches.
        var newest = plans.Count > 0 ? plans[0] : null;
        var after = newest is null ? null : candidates.Select(manifestOf).FirstOrDefault(m => m.Filename == newest.Generation!.BaseBackup)?.Sequence;
        var (early, late, last) = (new List<Plan<TBackup>>(), new List<Plan<TBackup>>(), new List<Plan<TBackup>>());
        for (var c = 0; c < candidates.Count; c++)
        {
            var backup = candidates[c];
            if (based.Contains(c) || (target is not null && takenAt(backup) > target))
            {
                continue;
            }

            var manifest = manifestOf(backup);
            var plan = new Plan<TBackup>(backup, manifest, null, [], null, PageHashes.Parse(manifest.ContentHash), takenAt(backup));
            var newer = newest is null || (manifest.Sequence > (after ?? 0) && plan.ReachedAt > newest.ReachedAt);
            (demoted?.Invoke(backup) == true ? last : newer ? early : late).Add(plan);
        }

        return [.. early, .. plans, .. alone, .. late, .. last];
    }

    /// <summary>
    /// The plans one generation gives for <paramref name="target"/>, newest base first, added to <paramref name="plans"/>
    /// (and each base's own state to <paramref name="alone"/>); every candidate that is a state of the generation is added
    /// to <paramref name="based"/>, whether or not it is a base for this target.
    /// </summary>
    private static void PlansIn<TBackup>(History history, IReadOnlyList<TBackup> candidates, Func<TBackup, BackupManifest> manifestOf, Func<TBackup, DateTimeOffset> takenAt,
        DateTimeOffset? target, HashSet<int> based, List<Plan<TBackup>> plans, List<Plan<TBackup>> alone)
    {
        // A backup that is a state of any generation is planned there, never on its own by its (clock-given) time.
        var found = new List<(int Index, WalPosition? Skip, int Candidate)>();
        for (var c = 0; c < candidates.Count; c++)
        {
            if (BaseIn(history, manifestOf(candidates[c])) is { } at)
            {
                based.Add(c);
                found.Add((at.Index, at.Skip, c));
            }
        }

        if (TargetPoint(history, target) is not { } point)
        {
            return;
        }

        foreach (var (index, skip, c) in found.Where(f => f.Index < point || (f.Index == point && f.Skip is null))
            .OrderByDescending(f => f.Index).ThenByDescending(f => f.Skip?.Frames ?? -1).ThenBy(f => f.Candidate))
        {
            var backup = candidates[c];
            var segments = Steps(history, index, point);
            ulong? baseHash = skip is null ? history.HashOf(index) : PageHashes.Parse(manifestOf(backup).ContentHash);
            var problem = point == history.Run.Count ? history.Problem : null;
            var stops = problem is null ? null : history.NextSegmentName;
            var spine = history.Run.Skip(index).Take(point - index).ToList();
            plans.Add(new Plan<TBackup>(backup, manifestOf(backup), history.Generation, segments, skip, baseHash, history.TimeOf(point), problem, stops) { FinerFollows = segments.Count != spine.Count || history.Partial });
            if (segments.Count != spine.Count)
            {
                // The same point along the run alone: what a replay falls back to when a level file it crossed by is damaged.
                plans.Add(new Plan<TBackup>(backup, manifestOf(backup), history.Generation, spine, skip, baseHash, history.TimeOf(point), problem, stops));
            }

            if (segments.Count > 0)
            {
                // The last resort when every replay fails (or would end emptied): the base's own state, itself a point of the history.
                alone.Add(new Plan<TBackup>(backup, manifestOf(backup), history.Generation, [], skip, baseHash, skip is null ? history.TimeOf(index) : takenAt(backup)));
            }
        }
    }

    /// <summary>The point of a history a target resolves to, or <see langword="null"/> when the generation holds no state at or before it.</summary>
    public static int? TargetPoint(History history, DateTimeOffset? target)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Ended is { } ended && (target is null || target >= ended.At))
        {
            return null; // a restore replaced the database: what the generation held after it is no state the database had
        }

        if (target is null)
        {
            return history.Run.Count;
        }

        if (history.TimeOf(0) > target)
        {
            return null;
        }

        var point = 0;
        while (point < history.Run.Count && history.TimeOf(point + 1) <= target)
        {
            point++;
        }

        return point;
    }

    /// <summary>
    /// The fewest files that take a base at point <paramref name="from"/> (or inside the run's file after it) to point
    /// <paramref name="to"/>: at each step the file that reaches furthest without
    /// passing the target, among the run's file starting there and the level files that hold the current point inside
    /// their run (a level file applied to any state within its run gives the state at its end: every page that changed
    /// after that state is in it, at its last version). Reaching furthest at each step is the fewest steps in all, since a
    /// point further on can use every file an earlier one can that still reaches past it.
    /// </summary>
    public static IReadOnlyList<HistoryFile> Steps(History history, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(history);
        var jumps = history.Jumps
            .Select(j => (File: j, Start: history.PointAfter(j.Sequence - 1), End: history.PointAfter(j.Manifest!.Last)))
            .Where(j => j.Start is not null && j.End is not null)
            .Select(j => (j.File, Start: j.Start!.Value, End: j.End!.Value))
            .ToLookup(j => j.File.Level);
        var steps = new List<HistoryFile>();
        var at = from;
        while (at < to)
        {
            var (best, reach) = (history.Run[at], at + 1);
            foreach (var level in jumps)
            {
                // Files of one level do not overlap: at most one holds the current point.
                foreach (var (file, start, end) in level)
                {
                    if (start <= at && end > at && end <= to && end > reach)
                    {
                        (best, reach) = (file, end);
                    }
                }
            }

            steps.Add(best);
            at = reach;
        }

        return steps;
    }
}
