using Emergence.Persistence.Database;
using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Replication;

/// <summary>
/// One generation's provable history: the run of segments from its snapshot that follow each other, each one's
/// content checksum starting where the one before ended, and why the run ends early when it does. Only this run is
/// ever replayed or listed as restorable: the windows end where proof ends.
/// </summary>
/// <param name="Generation">The generation.</param>
/// <param name="Run">The provable segments, in order, from the first.</param>
/// <param name="Problem">Why the run ends before the newest segment (a gap, a damaged or missing file or record, an earlier format), when it does.</param>
/// <param name="Ended">The restore that ended the generation, when one did: no point of it at or after that time is a state the database had.</param>
public sealed record History(GenerationManifest Generation, IReadOnlyList<HistoryFile> Run, string? Problem, ReplicationStore.Ended? Ended)
{
    /// <summary>How much of each segment is checked.</summary>
    public enum Check
    {
        /// <summary>The records only (what a listing of the container gives).</summary>
        Records,

        /// <summary>The records, and that each segment is a regular file of the size its record gives.</summary>
        Quick,
    }

    /// <summary>The number of the run's first segment: 1, or later once retention deleted the history no restore needs.</summary>
    public long FirstSequence => Run.Count > 0 ? Run[0].Sequence : 1;

    /// <summary>
    /// Level files beside the run that cross part of it in one step: each starts and ends at points of the run, with
    /// the content checksums the run has there. A restore uses them to reach its point with few files.
    /// </summary>
    public IReadOnlyList<HistoryFile> Jumps { get; init; } = [];

    /// <summary>The time of a point: 0 is the start of the run (the snapshot, when nothing was pruned), <c>i</c> the end of the run's <c>i</c>-th file.</summary>
    public DateTimeOffset TimeOf(int point) => point == 0
        ? (FirstSequence == 1 ? Generation.StartedAt : Run[0].Manifest!.FirstCommitAt)
        : Run[point - 1].Manifest!.LastCommitAt;

    /// <summary>The content checksum at a point.</summary>
    public ulong HashOf(int point) => point == 0
        ? PageHashes.Parse(FirstSequence == 1 ? Generation.StartHash : Run[0].Manifest!.StartHash) ?? 0
        : PageHashes.Parse(Run[point - 1].Manifest!.EndHash)!.Value;

    /// <summary>The point at the end of segment <paramref name="sequence"/> (0: before the run's first), or <see langword="null"/> when the run has no point there.</summary>
    public int? PointAfter(long sequence)
    {
        if (sequence == FirstSequence - 1)
        {
            return 0;
        }

        var (low, high) = (0, Run.Count - 1);
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var last = Run[middle].Manifest!.Last;
            if (last == sequence)
            {
                return middle + 1;
            }

            (low, high) = last < sequence ? (middle + 1, high) : (low, middle - 1);
        }

        return null;
    }

    /// <summary>The name of the first segment after the run (where a replay to the newest point stops when <see cref="Problem"/> is set).</summary>
    public string NextSegmentName => ReplicationStore.SegmentName(Run.Count > 0 ? Run[^1].Manifest!.Last + 1 : FirstSequence);

    /// <summary>The histories of a database's generations under a backup directory, oldest first.</summary>
    public static IReadOnlyList<History> ReadAll(string backupDirectory, string databasePath)
    {
        var store = new ReplicationStore(backupDirectory);
        return [.. store.Generations(databasePath).Select(g => Read(g, store.Files(g.Id), store.EndedOf(g.Id), Check.Quick))];
    }

    /// <summary>
    /// Reads one generation's provable run from its files' records (and the files' sizes, with <see cref="Check.Quick"/>):
    /// from the earliest file kept, at each point the finest file that continues it (a segment where one is kept, else
    /// the finest level file), so the run has every point the history still holds; then the level files that cross
    /// part of the run, checked against it.
    /// </summary>
    public static History Read(GenerationManifest generation, IReadOnlyList<HistoryFile> files, ReplicationStore.Ended? ended, Check check)
    {
        ArgumentNullException.ThrowIfNull(generation);
        ArgumentNullException.ThrowIfNull(files);
        if (!generation.IsProvable)
        {
            return new History(generation, [], "it was written by an earlier version without content checksums, so no replay of it can be proven", ended);
        }

        var segments = files.Where(f => f.Level == 0).ToDictionary(f => f.Sequence);
        var levels = files.Where(f => f.Level > 0 && f.Manifest is not null).OrderBy(f => f.Level).ThenBy(f => f.Sequence).ToList();
        var run = new List<HistoryFile>();
        // Retention deletes the oldest history: the run starts at the earliest file kept, whose start is then taken as
        // proven by whatever base lies at or after it.
        var starts = segments.Keys.Concat(levels.Select(l => l.Sequence)).ToList();
        long next = starts.Count > 0 ? starts.Min() : 1;
        var firstFile = next > 1 ? (segments.TryGetValue(next, out var s) && s.Manifest is not null ? s : levels.FirstOrDefault(l => l.Sequence == next)) : null;
        var pruned = next > 1;
        if (pruned && firstFile is null)
        {
            return new History(generation, run, $"segment {ReplicationStore.SegmentName(next)} has no readable record", ended);
        }

        var previousEnd = pruned ? firstFile!.Manifest!.StartPosition : generation.Start;
        var previousHash = pruned ? firstFile!.Manifest!.StartHash : generation.StartHash;
        var newest = starts.Count > 0 ? files.Max(f => f.Last) : 0;
        while (next <= newest)
        {
            string? problem = null;
            HistoryFile? chosen = null;
            var name = ReplicationStore.SegmentName(next);
            if (segments.TryGetValue(next, out var segment))
            {
                problem = segment.Manifest is not { } manifest ? $"segment {name} has no readable record"
                    : Continues(segment, run.Count == 0 && !pruned, previousEnd, previousHash, check) is { } why ? $"segment {name} {why}"
                    : null;
                chosen = problem is null ? segment : null;
            }

            // Where the segment is gone (or damaged), the finest level file that starts here and continues the run.
            chosen ??= levels.FirstOrDefault(l => l.Sequence == next && Continues(l, run.Count == 0 && !pruned, previousEnd, previousHash, check) is null);
            if (chosen is null)
            {
                problem ??= levels.FirstOrDefault(l => l.Sequence == next) is { } level
                    ? $"level file {Path.GetFileName(level.Path)} {Continues(level, run.Count == 0 && !pruned, previousEnd, previousHash, check)}"
                    : $"segment {name} is missing";
                return new History(generation, run, problem, ended) { Jumps = JumpsOver(run, levels, check) };
            }

            run.Add(chosen);
            previousEnd = chosen.Manifest!.EndPosition;
            previousHash = chosen.Manifest.EndHash;
            next = chosen.Manifest.Last + 1;
        }

        return new History(generation, run, null, ended) { Jumps = JumpsOver(run, levels, check) };
    }

    /// <summary>The level files not in <paramref name="run"/> that start and end at points of it, with its checksums there.</summary>
    private static List<HistoryFile> JumpsOver(List<HistoryFile> run, List<HistoryFile> levels, Check check)
    {
        if (run.Count == 0 || levels.Count == 0)
        {
            return [];
        }

        var inRun = run.Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
        var hashAfter = new Dictionary<long, string?> { [run[0].Sequence - 1] = run[0].Manifest!.StartHash };
        foreach (var file in run)
        {
            hashAfter[file.Manifest!.Last] = file.Manifest.EndHash;
        }

        return [.. levels.Where(l => !inRun.Contains(l.Path)
            && hashAfter.TryGetValue(l.Sequence - 1, out var start) && string.Equals(start, l.Manifest!.StartHash, StringComparison.Ordinal)
            && hashAfter.TryGetValue(l.Manifest.Last, out var end) && string.Equals(end, l.Manifest.EndHash, StringComparison.Ordinal)
            && (check == Check.Records || FileProblem(l.Path, l.Manifest.Size) is null))];
    }

    /// <summary>Why a file does not continue the run, or <see langword="null"/>.</summary>
    private static string? Continues(HistoryFile file, bool first, WalPosition? previousEnd, string? previousHash, Check check) =>
        Follows(file.Manifest!, first, previousEnd, previousHash) ?? (check == Check.Quick ? FileProblem(file.Path, file.Manifest!.Size) : null);

    /// <summary>Why a file's record does not continue the history before it, or <see langword="null"/>.</summary>
    private static string? Follows(SegmentManifest manifest, bool first, WalPosition? previousEnd, string? previousHash)
    {
        if (manifest.Format < GenerationManifest.CurrentFormat || manifest.StartHash is null || PageHashes.Parse(manifest.EndHash) is null)
        {
            return "has no content checksums";
        }

        if (!string.Equals(manifest.StartHash, previousHash, StringComparison.Ordinal))
        {
            return $"starts from content {manifest.StartHash}, not {previousHash}, where the history before it ends";
        }

        if (manifest.ResumedByContent == true)
        {
            return null; // a resume proven by content: any log may follow
        }

        if (previousEnd is null)
        {
            return first && manifest.FirstFrame == 1 ? null : "does not start at the beginning of a log";
        }

        var start = manifest.StartPosition;
        var sameLog = start.Salt1 == previousEnd.Salt1 && start.Salt2 == previousEnd.Salt2 && start.CheckpointSequence == previousEnd.CheckpointSequence;
        if (sameLog)
        {
            return start.Frames == previousEnd.Frames && start.S1 == previousEnd.S1 && start.S2 == previousEnd.S2
                ? null
                : $"does not continue the history before it (frame {manifest.FirstFrame} after frame {previousEnd.Frames})";
        }

        // A new log (new salts) from its first frame; the content checksums above prove nothing was lost between the logs.
        return manifest.FirstFrame == 1 && previousEnd.IsOtherLog(start.Header) ? null : "belongs to a log that does not follow the one before it";
    }

    private static string? FileProblem(string path, long size)
    {
        if (RegularFile.NotRegular(path) is { } what)
        {
            return $"is {what}, not a history file";
        }

        var file = new FileInfo(path);
        return !file.Exists ? "is missing its file"
            : file.Length != size ? $"is {file.Length} bytes, its record says {size}"
            : null;
    }
}
