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
public sealed partial record History(GenerationManifest Generation, IReadOnlyList<HistoryFile> Run, string? Problem, ReplicationStore.Ended? Ended)
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

    /// <summary>
    /// Whether the run was read in part for a restore (<see cref="ReadUntil"/>): it may cross points of the history by a
    /// coarser file, and may stop at its first file past the time asked, the history going on after it unread;
    /// <see cref="Problem"/> says nothing of the files not read.
    /// </summary>
    public bool Partial { get; init; }

    /// <summary>The histories of a database's generations under a backup directory, oldest first.</summary>
    public static IReadOnlyList<History> ReadAll(string backupDirectory, string databasePath)
    {
        var store = new ReplicationStore(backupDirectory);
        return [.. store.Generations(databasePath).Select(g => Read(g, store.Files(g.Id), store.EndedOf(g.Id), Check.Quick))];
    }

    /// <summary>
    /// The histories of a database's generations read only as far as a restore to <paramref name="until"/> (<see langword="null"/>:
    /// the newest point) needs, coarsest first: at each point of the run, from the files' names, the coarsest level file
    /// that starts there, continues the run and ends at or before <paramref name="until"/>, else the file
    /// <see cref="ReadAll"/> would take there; the run stops after its first file whose last commit is after
    /// <paramref name="until"/>. So a point of a week's history is reached by a few hundred records, not every one, and
    /// each file is checked as <see cref="ReadAll"/> checks it. The run then lacks the points inside the coarser files it
    /// took (<see cref="Partial"/>): a base inside one is placed by its log point; a run that ends early, and a plan that
    /// fails, are followed by <see cref="ReadAll"/>'s (see <c>VolumeSource</c> and <c>RestorePlanner.Candidates</c>).
    /// </summary>
    public static IReadOnlyList<History> ReadUntil(string backupDirectory, string databasePath, DateTimeOffset? until)
    {
        var store = new ReplicationStore(backupDirectory);
        return [.. store.Generations(databasePath).Select(g => Read(g, store.Names(g.Id), f => store.WithRecord(g.Id, f), store.EndedOf(g.Id), Check.Quick, coarse: true, until))];
    }

    /// <summary>
    /// Reads one generation's provable run from its files' records (and the files' sizes, with <see cref="Check.Quick"/>):
    /// from the earliest file kept, at each point the finest file that continues it (a segment where one is kept, else
    /// the finest level file), so the run has every point the history still holds; then the level files that cross
    /// part of the run, checked against it.
    /// </summary>
    public static History Read(GenerationManifest generation, IReadOnlyList<HistoryFile> files, ReplicationStore.Ended? ended, Check check) =>
        Read(generation, files, f => f, ended, check, coarse: false, until: null);

    /// <summary>
    /// Reads one generation's provable run, as <see cref="Read(GenerationManifest, IReadOnlyList{HistoryFile}, ReplicationStore.Ended?, Check)"/>
    /// does, from <paramref name="files"/> whose records <paramref name="load"/> gives when one is first needed; with
    /// <paramref name="coarse"/>, it takes at each point the coarsest level file that continues the run and ends at or before
    /// <paramref name="until"/> (any, without it) where there is one; with <paramref name="until"/>, it stops after the
    /// first file of the run whose last commit is after that time.
    /// </summary>
    private static History Read(GenerationManifest generation, IReadOnlyList<HistoryFile> files, Func<HistoryFile, HistoryFile> load, ReplicationStore.Ended? ended, Check check,
        bool coarse, DateTimeOffset? until)
    {
        ArgumentNullException.ThrowIfNull(generation);
        ArgumentNullException.ThrowIfNull(files);
        if (!generation.IsProvable)
        {
            return new History(generation, [], "it was written by an earlier version without content checksums, so no replay of it can be proven", ended);
        }

        var records = new HistoryRecords(files, load);
        var run = new List<HistoryFile>();
        // Retention deletes the oldest history: the run starts at the earliest file kept, whose start is then taken as
        // proven by whatever base lies at or after it.
        if (records.EarliestStart() is not { } next)
        {
            return new History(generation, run, null, ended);
        }

        var pruned = next > 1;
        var firstFile = !pruned ? null : records.Segment(next) is { Manifest: not null } s ? s : records.LevelsAt(next) is [var level, ..] ? level : null;
        if (pruned && firstFile is null)
        {
            return new History(generation, run, $"segment {ReplicationStore.SegmentName(next)} has no readable record", ended);
        }

        var previousEnd = pruned ? firstFile!.Manifest!.StartPosition : generation.Start;
        var previousHash = pruned ? firstFile!.Manifest!.StartHash : generation.StartHash;
        var crossed = false;
        while (next <= records.Newest)
        {
            var first = run.Count == 0 && !pruned;
            var across = coarse ? Coarsest(records, next, first, previousEnd, previousHash, check, until) : null;
            string? problem = null;
            if ((across ?? Next(records, next, first, previousEnd, previousHash, check, out problem)) is not { } chosen)
            {
                return new History(generation, run, problem, ended) { Jumps = JumpsOver(run, records, check), Partial = crossed };
            }

            // Coarser than the file a full read takes there (the segment where one is listed, else the finest level file).
            crossed |= across is not null && (records.IsListed(next) || across.Level > records.LevelsAt(next)[0].Level);
            run.Add(chosen);
            if (chosen.Manifest!.LastCommitAt > until)
            {
                return new History(generation, run, null, ended) { Jumps = JumpsOver(run, records, check), Partial = true };
            }

            previousEnd = chosen.Manifest.EndPosition;
            previousHash = chosen.Manifest.EndHash;
            next = chosen.Manifest.Last + 1;
        }

        return new History(generation, run, null, ended) { Jumps = JumpsOver(run, records, check), Partial = crossed };
    }

    /// <summary>
    /// The coarsest level file starting at segment <paramref name="next"/> that continues the run and ends at or before
    /// <paramref name="until"/> (any, without it), or <see langword="null"/> when none does. A file's time decides only
    /// where a full read would take the same time: where a finer file ends with it, that file's record must give the
    /// same last commit (a record whose time is wrong would otherwise carry a restore past the time asked).
    /// </summary>
    private static HistoryFile? Coarsest(HistoryRecords records, long next, bool first, WalPosition? previousEnd, string? previousHash, Check check, DateTimeOffset? until)
    {
        var levels = records.LevelsAt(next);
        for (var i = levels.Count - 1; i >= 0; i--)
        {
            var level = levels[i];
            if (level.Manifest!.LastCommitAt > until || Continues(level, first, previousEnd, previousHash, check) is not null)
            {
                continue;
            }

            if (until is null || records.FinerEndingWith(level) is not { } finer || finer.Manifest?.LastCommitAt == level.Manifest.LastCommitAt)
            {
                return level;
            }
        }

        return null;
    }

    /// <summary>
    /// The file that continues the run at segment <paramref name="next"/>: the segment, or where it is gone (or damaged)
    /// the finest level file that starts there and continues the run; <see langword="null"/> and why when none does.
    /// </summary>
    private static HistoryFile? Next(HistoryRecords records, long next, bool first, WalPosition? previousEnd, string? previousHash, Check check, out string? problem)
    {
        problem = null;
        var name = ReplicationStore.SegmentName(next);
        if (records.Segment(next) is { } segment)
        {
            problem = segment.Manifest is null ? $"segment {name} has no readable record"
                : Continues(segment, first, previousEnd, previousHash, check) is { } why ? $"segment {name} {why}"
                : null;
            if (problem is null)
            {
                return segment;
            }
        }

        var levels = records.LevelsAt(next);
        if (levels.FirstOrDefault(l => Continues(l, first, previousEnd, previousHash, check) is null) is { } level)
        {
            problem = null;
            return level;
        }

        problem ??= levels.Count > 0
            ? $"level file {Path.GetFileName(levels[0].Path)} {Continues(levels[0], first, previousEnd, previousHash, check)}"
            : $"segment {name} is missing";
        return null;
    }

    /// <summary>The level files not in <paramref name="run"/> that start and end at points of it, with its checksums there.</summary>
    private static List<HistoryFile> JumpsOver(List<HistoryFile> run, HistoryRecords records, Check check)
    {
        if (run.Count == 0)
        {
            return [];
        }

        var inRun = run.Select(r => r.Path).ToHashSet(StringComparer.Ordinal);
        var hashAfter = new Dictionary<long, string?> { [run[0].Sequence - 1] = run[0].Manifest!.StartHash };
        foreach (var file in run)
        {
            hashAfter[file.Manifest!.Last] = file.Manifest.EndHash;
        }

        // The names say where a level file starts and ends: only those on points of the run have their records read.
        return [.. records.Levels(l => !inRun.Contains(l.Path) && hashAfter.ContainsKey(l.Sequence - 1) && hashAfter.ContainsKey(l.Last))
            .Where(l => string.Equals(hashAfter[l.Sequence - 1], l.Manifest!.StartHash, StringComparison.Ordinal)
                && string.Equals(hashAfter[l.Manifest.Last], l.Manifest.EndHash, StringComparison.Ordinal)
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
