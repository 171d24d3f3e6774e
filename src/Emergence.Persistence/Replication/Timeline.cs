using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Replication;

/// <summary>
/// What can be restored from a backup directory: each generation's window (from its snapshot to its
/// newest segment's last commit) and, for a point in time, the backup and the segments to replay.
/// </summary>
public static class Timeline
{
    /// <summary>One window of unbroken history.</summary>
    /// <param name="Generation">Its generation.</param>
    /// <param name="From">Its snapshot's time: the earliest point it restores to.</param>
    /// <param name="To">The last commit in a whole, unbroken run of segments from its start: the latest point.</param>
    /// <param name="Segments">How many segments that run holds.</param>
    /// <param name="Problem">Why the run ends before the newest segment, when it does (a gap or a damaged manifest).</param>
    public sealed record Window(string Generation, DateTimeOffset From, DateTimeOffset To, int Segments, string? Problem);

    /// <summary>What to restore for a point: a verified backup and the segments that follow it up to the point.</summary>
    /// <param name="Backup">The backup to start from.</param>
    /// <param name="Generation">The generation whose segments follow it, when one does.</param>
    /// <param name="Segments">The segments to replay, in order (possibly none).</param>
    /// <param name="Problem">Why no segment can follow the backup although its generation has later ones (a segment before them is missing).</param>
    /// <typeparam name="TBackup">A backup on the volume or in the off-volume container.</typeparam>
    public sealed record Plan<TBackup>(TBackup Backup, GenerationManifest? Generation, IReadOnlyList<ReplicationStore.StoredSegment> Segments, string? Problem = null);

    /// <summary>The windows of a database's generations under a backup directory, oldest first.</summary>
    public static IReadOnlyList<Window> Windows(string backupDirectory, string databasePath)
    {
        var store = new ReplicationStore(backupDirectory);
        return Windows(store.Generations(databasePath), store.Segments);
    }

    /// <summary>The windows of <paramref name="generations"/> (oldest first), whose segments <paramref name="segmentsOf"/> gives.</summary>
    public static IReadOnlyList<Window> Windows(IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<ReplicationStore.StoredSegment>> segmentsOf)
    {
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(segmentsOf);
        var windows = new List<Window>();
        foreach (var generation in generations)
        {
            var (run, problem) = UnbrokenRun(segmentsOf(generation.Id));
            var to = run.Count == 0 ? generation.BaseBackupTimestamp : run[^1].Manifest!.LastCommitAt;
            windows.Add(new Window(generation.Id, generation.BaseBackupTimestamp, to, run.Count, problem));
        }

        return windows;
    }

    /// <summary>Every plan for restoring the backups of a backup directory to <paramref name="target"/>, best first (see the general overload).</summary>
    public static IReadOnlyList<Plan<BackupEntry>> PlansFor(BackupInventory inventory, string databasePath, DateTimeOffset? target)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        var store = new ReplicationStore(inventory.Directory);
        return PlansFor(inventory.RestoreCandidates, b => b.TakenAt, store.Generations(databasePath), store.Segments, target);
    }

    /// <summary>
    /// Every plan for restoring to <paramref name="target"/>, best first: each of <paramref name="candidates"/> (verified
    /// backups, newest first) taken at or before it, with the segments of the generation it belongs to whose commits it
    /// does not hold and that were seen at or before the point. A backup belongs to the newest generation that started
    /// at or before it; the segments it does not hold are those with a commit seen after it was taken.
    /// </summary>
    public static IReadOnlyList<Plan<TBackup>> PlansFor<TBackup>(IEnumerable<TBackup> candidates, Func<TBackup, DateTimeOffset> takenAt,
        IReadOnlyList<GenerationManifest> generations, Func<string, IReadOnlyList<ReplicationStore.StoredSegment>> segmentsOf, DateTimeOffset? target)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(takenAt);
        ArgumentNullException.ThrowIfNull(generations);
        ArgumentNullException.ThrowIfNull(segmentsOf);
        var plans = new List<Plan<TBackup>>();
        foreach (var backup in candidates.Where(b => target is null || takenAt(b) <= target))
        {
            var taken = takenAt(backup);
            var generation = generations.LastOrDefault(g => g.BaseBackupTimestamp <= taken && !string.IsNullOrEmpty(g.BaseBackup));
            if (generation is null)
            {
                plans.Add(new Plan<TBackup>(backup, null, []));
                continue;
            }

            // Segments are replayed from the first one with a commit the backup may lack, in an unbroken run;
            // the replay itself stops at a segment that turns out damaged.
            var all = segmentsOf(generation.Id);
            var first = all.FirstOrDefault(s => s.Manifest is null || s.Manifest.LastCommitAt > taken);
            if (first is null)
            {
                plans.Add(new Plan<TBackup>(backup, generation, []));
                continue;
            }

            // The segment before the first replayed must be there and held by the backup, else a gap may hide commits it lacks.
            var previous = all.FirstOrDefault(s => s.Sequence == first.Sequence - 1);
            if (first.Sequence > 1 && previous?.Manifest is null)
            {
                plans.Add(new Plan<TBackup>(backup, generation, [], $"segment {ReplicationStore.SegmentName(first.Sequence - 1)} of generation {generation.Id} is missing"));
                continue;
            }

            var tail = all.SkipWhile(s => s != first).ToList();
            var chosen = tail.TakeWhile(s => target is null || s.Manifest is null || s.Manifest.LastCommitAt <= target).ToList();
            plans.Add(new Plan<TBackup>(backup, generation, chosen));
        }

        return plans;
    }

    /// <summary>The segments from the first that have a manifest and follow each other by number, and why the run ends early, if it does.</summary>
    private static (List<ReplicationStore.StoredSegment> Run, string? Problem) UnbrokenRun(IReadOnlyList<ReplicationStore.StoredSegment> segments)
    {
        var run = new List<ReplicationStore.StoredSegment>();
        long? expected = segments.Count == 0 ? null : segments[0].Sequence;
        foreach (var segment in segments)
        {
            if (segment.Sequence != expected)
            {
                return (run, $"segment {ReplicationStore.SegmentName(expected!.Value)} is missing");
            }

            if (segment.Manifest is null)
            {
                return (run, $"segment {Path.GetFileName(segment.Path)} has no readable manifest");
            }

            run.Add(segment);
            expected++;
        }

        return (run, null);
    }
}
