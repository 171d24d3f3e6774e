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
public sealed record History(GenerationManifest Generation, IReadOnlyList<ReplicationStore.StoredSegment> Run, string? Problem, ReplicationStore.Ended? Ended)
{
    /// <summary>How much of each segment is checked.</summary>
    public enum Check
    {
        /// <summary>The records only (what a listing of the container gives).</summary>
        Records,

        /// <summary>The records, and that each segment is a regular file of the size its record gives.</summary>
        Quick,
    }

    /// <summary>The number of the run's first segment: 1, or later once retention deleted the segments no kept backup needs.</summary>
    public long FirstSequence => Run.Count > 0 ? Run[0].Sequence : 1;

    /// <summary>The time of a point: 0 is the start of the run (the snapshot, when nothing was pruned), <c>i</c> the end of the run's <c>i</c>-th segment.</summary>
    public DateTimeOffset TimeOf(int point) => point == 0 ? Generation.StartedAt : Run[point - 1].Manifest!.LastCommitAt;

    /// <summary>The content checksum at a point.</summary>
    public ulong HashOf(int point) => point == 0
        ? PageHashes.Parse(FirstSequence == 1 ? Generation.StartHash : Run[0].Manifest!.StartHash) ?? 0
        : PageHashes.Parse(Run[point - 1].Manifest!.EndHash)!.Value;

    /// <summary>The name of the first segment after the run (where a replay to the newest point stops when <see cref="Problem"/> is set).</summary>
    public string NextSegmentName => ReplicationStore.SegmentName(FirstSequence + Run.Count);

    /// <summary>The histories of a database's generations under a backup directory, oldest first.</summary>
    public static IReadOnlyList<History> ReadAll(string backupDirectory, string databasePath)
    {
        var store = new ReplicationStore(backupDirectory);
        return [.. store.Generations(databasePath).Select(g => Read(g, store.Segments(g.Id), store.EndedOf(g.Id), Check.Quick))];
    }

    /// <summary>Reads one generation's provable run from its segments' records (and files, with <see cref="Check.Quick"/>).</summary>
    public static History Read(GenerationManifest generation, IReadOnlyList<ReplicationStore.StoredSegment> segments, ReplicationStore.Ended? ended, Check check)
    {
        ArgumentNullException.ThrowIfNull(generation);
        ArgumentNullException.ThrowIfNull(segments);
        if (!generation.IsProvable)
        {
            return new History(generation, [], "it was written by an earlier version without content checksums, so no replay of it can be proven", ended);
        }

        var run = new List<ReplicationStore.StoredSegment>();
        // Retention deletes the oldest segments: the run starts at the first one kept, whose start is then taken as proven
        // by whatever base lies at or after it.
        long expected = segments.Count > 0 && segments[0].Manifest is { } firstKept ? segments[0].Sequence : 1;
        var pruned = expected > 1;
        var previousEnd = pruned ? segments[0].Manifest!.StartPosition : generation.Start;
        var previousHash = pruned ? segments[0].Manifest!.StartHash : generation.StartHash;
        foreach (var segment in segments)
        {
            var name = ReplicationStore.SegmentName(expected);
            if (segment.Sequence != expected)
            {
                return new History(generation, run, $"segment {name} is missing", ended);
            }

            if (segment.Manifest is not { } manifest)
            {
                return new History(generation, run, $"segment {name} has no readable record", ended);
            }

            var problem = Follows(manifest, run.Count == 0 && !pruned, previousEnd, previousHash)
                ?? (check == Check.Quick ? FileProblem(segment.Path, manifest.Size) : null);
            if (problem is not null)
            {
                return new History(generation, run, $"segment {name} {problem}", ended);
            }

            run.Add(segment);
            previousEnd = manifest.EndPosition;
            previousHash = manifest.EndHash;
            expected++;
        }

        return new History(generation, run, null, ended);
    }

    /// <summary>Why a segment's record does not continue the history before it, or <see langword="null"/>.</summary>
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

        return manifest.FirstFrame == 1 && previousEnd.IsNextLog(start.Header) ? null : "belongs to a log that does not follow the one before it";
    }

    private static string? FileProblem(string path, long size)
    {
        if (RegularFile.NotRegular(path) is { } what)
        {
            return $"is {what}, not a segment file";
        }

        var file = new FileInfo(path);
        return !file.Exists ? "is missing its file"
            : file.Length != size ? $"is {file.Length} bytes, its record says {size}"
            : null;
    }
}
