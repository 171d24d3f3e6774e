using System.Text.Json.Serialization;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The record written beside a history file once the file is durable. For a segment (level 0): which frames of
/// which log it holds, the chain it continues and ends with, when its commits were seen, and its SHA-256. For a
/// level file (level 1 and up: the last version of each page a run of segments changed, compressed), the same
/// fields describe the run: its first segment's start, its last segment's end (<see cref="End"/>), and the
/// content checksums before and after it. A file without a record is not part of the timeline.
/// </summary>
public sealed record SegmentManifest
{
    /// <summary>The generation the segment belongs to.</summary>
    public required string Generation { get; init; }

    /// <summary>Its number in the generation, from 1, without gaps.</summary>
    public required long Sequence { get; init; }

    /// <summary>The segment file's name in the generation's directory.</summary>
    public required string Filename { get; init; }

    /// <summary>The log's first salt.</summary>
    public required uint Salt1 { get; init; }

    /// <summary>The log's second salt.</summary>
    public required uint Salt2 { get; init; }

    /// <summary>The log's checkpoint sequence number.</summary>
    public required uint CheckpointSequence { get; init; }

    /// <summary>The first frame held (1-based, within its log).</summary>
    public required long FirstFrame { get; init; }

    /// <summary>The last frame held.</summary>
    public required long LastFrame { get; init; }

    /// <summary>The chain the first frame continues (the log header's checksum for frame 1).</summary>
    public required uint[] StartChain { get; init; }

    /// <summary>The chain after the last frame: the next segment of the same log starts from it.</summary>
    public required uint[] EndChain { get; init; }

    /// <summary>The database page size.</summary>
    public required int PageSize { get; init; }

    /// <summary>Whether the log's checksum words are big-endian (from its header's magic).</summary>
    public required bool BigEndianChecksums { get; init; }

    /// <summary>How many transactions the segment holds (each complete).</summary>
    public required int Commits { get; init; }

    /// <summary>The database's size in pages after the last of them.</summary>
    public required uint DatabasePages { get; init; }

    /// <summary>When the replicator first saw the first of its commits (UTC).</summary>
    [JsonConverter(typeof(UtcMillisecondsConverter))]
    public required DateTimeOffset FirstCommitAt { get; init; }

    /// <summary>When the replicator saw the last of its commits (UTC): every commit in it happened at or before this time.</summary>
    [JsonConverter(typeof(UtcMillisecondsConverter))]
    public required DateTimeOffset LastCommitAt { get; init; }

    /// <summary>The file's size in bytes (compressed, as stored).</summary>
    public required long Size { get; init; }

    /// <summary>Lowercase hex SHA-256 of the file (as stored).</summary>
    public required string Checksum { get; init; }

    /// <summary>The history format (2); <see langword="null"/> for the first format.</summary>
    public int? Format { get; init; }

    /// <summary>The content checksum of the database before the segment's first commit.</summary>
    public string? StartHash { get; init; }

    /// <summary>The content checksum of the database after its last commit: what a replay to it is proven against.</summary>
    public string? EndHash { get; init; }

    /// <summary>
    /// <see langword="true"/> when the segment does not continue the previous one's log but starts where a stopped
    /// replicator resumed: it proved by content (<see cref="StartHash"/> equal to the previous segment's <see cref="EndHash"/>)
    /// that nothing was committed while it was away.
    /// </summary>
    public bool? ResumedByContent { get; init; }

    /// <summary>The history level: <see langword="null"/> or 0 for a segment, 1 and up for a level file (see <see cref="HistoryLevels"/>).</summary>
    public int? Level { get; init; }

    /// <summary>For a level file, the last segment of the run it stands for (<see cref="Sequence"/> is the first).</summary>
    public long? LastSequence { get; init; }

    /// <summary>For a level file, the log position after its last segment (which may be in a later log than its first).</summary>
    public WalPosition? End { get; init; }

    /// <summary>For a level file, the database's smallest size in pages within the run (pages past it that were not written again read as zeros).</summary>
    public uint? SmallestPages { get; init; }

    /// <summary>For a level file, how many pages it holds.</summary>
    public int? Pages { get; init; }

    /// <summary>The file's compression: <c>zstd</c>; <see langword="null"/> for a segment of the frames as they are (as the first segments were written).</summary>
    public string? Codec { get; init; }

    /// <summary>For a level file, whether a segment after its first resumed by content (a log position inside it then says nothing of order).</summary>
    public bool? ResumesInside { get; init; }

    /// <summary>The level, 0 for a segment.</summary>
    [JsonIgnore]
    public int LevelOrZero => Level ?? 0;

    /// <summary>The last segment this file stands for: its own number for a segment.</summary>
    [JsonIgnore]
    public long Last => LastSequence ?? Sequence;

    /// <summary>The log position after the last frame.</summary>
    [JsonIgnore]
    public WalPosition EndPosition => End ?? new(Salt1, Salt2, CheckpointSequence, LastFrame, EndChain[0], EndChain[1], PageSize, BigEndianChecksums);

    /// <summary>The log position before the first frame.</summary>
    [JsonIgnore]
    public WalPosition StartPosition => new(Salt1, Salt2, CheckpointSequence, FirstFrame - 1, StartChain[0], StartChain[1], PageSize, BigEndianChecksums);
}
