using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Small in-memory histories for table tests: generation <c>gN</c> (number N) with segments of ten frames each in one
/// log, segment i ending at frame 10·i, with content <c>H(N, i)</c> after it and its last commit at
/// <see cref="T0"/> + N hours + i seconds; backups pinned at a segment's end, inside a segment, or known only by content.
/// </summary>
internal static class HistoryTables
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    public static string H(int generation, int point) => PageHashes.Format(((ulong)generation << 32) | (uint)(point + 1));

    public static DateTimeOffset At(int generation, int point) => T0.AddHours(generation).AddSeconds(point);

    private static WalPosition Position(int generation, long frames) => new((uint)generation, 7, 0, frames, (uint)frames, (uint)frames + 1, 4096, false);

    public static GenerationManifest Generation(int n) => new()
    {
        Id = $"g{n}",
        Number = n,
        Format = GenerationManifest.CurrentFormat,
        StartedAt = At(n, 0),
        DatabasePath = "/data/database.sqlite",
        BaseBackup = $"snapshot{n}",
        BaseBackupTimestamp = At(n, 0),
        Start = Position(n, 0),
        StartHash = H(n, 0),
        Pinned = true,
    };

    public static HistoryFile Segment(int generation, int i) => new(i, $"/nowhere/g{generation}/{ReplicationStore.SegmentName(i)}", new SegmentManifest
    {
        Generation = $"g{generation}",
        Sequence = i,
        Filename = ReplicationStore.SegmentName(i),
        Salt1 = (uint)generation,
        Salt2 = 7,
        CheckpointSequence = 0,
        FirstFrame = (10 * (i - 1)) + 1,
        LastFrame = 10 * i,
        StartChain = [(uint)(10 * (i - 1)), (uint)(10 * (i - 1)) + 1],
        EndChain = [(uint)(10 * i), (uint)(10 * i) + 1],
        PageSize = 4096,
        BigEndianChecksums = false,
        Commits = 2,
        DatabasePages = 10,
        FirstCommitAt = At(generation, i),
        LastCommitAt = At(generation, i),
        Size = 10 * (24 + 4096),
        Checksum = new string('0', 64),
        Format = GenerationManifest.CurrentFormat,
        StartHash = H(generation, i - 1),
        EndHash = H(generation, i),
    });

    public static IReadOnlyList<HistoryFile> Segments(int generation, int count, int from = 1) =>
        [.. Enumerable.Range(from, count - from + 1).Select(i => Segment(generation, i))];

    /// <summary>A backup pinned at frame <paramref name="frames"/> of generation <paramref name="generation"/>'s log, holding <paramref name="content"/>.</summary>
    public static BackupManifest PinnedAt(string name, int generation, long frames, string? content, long sequence, DateTimeOffset? taken = null) =>
        Backup(name, sequence, taken ?? At(generation, (int)(frames / 10)), content) with { Pinned = true, WalPosition = Position(generation, frames) };

    /// <summary>A backup known only by its content (unpinned), or by nothing when <paramref name="content"/> matches no history.</summary>
    public static BackupManifest Backup(string name, long sequence, DateTimeOffset taken, string? content) => new()
    {
        Timestamp = taken,
        Filename = name,
        Size = 4096,
        Checksum = new string('0', 64),
        SourcePath = "/data/database.sqlite",
        BackupPath = $"/data/backups/{name}",
        Reason = "scheduled",
        QuickCheck = "ok",
        SqliteVersion = "3.51.3",
        PageSize = 4096,
        PageCount = 1,
        UserVersion = 1,
        Sequence = sequence,
        ContentHash = content,
        Pinned = false,
    };
}
