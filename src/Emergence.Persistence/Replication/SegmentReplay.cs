using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Applies segments to a staged copy of a backup, as a checkpoint applies a log: each page at its place and the
/// file set to the size the last commit gives. A segment is applied whole or not at all: its file is checked
/// against its record's SHA-256 and every frame against its log's salts and checksum chain before any page of it
/// is written, so the staged file is always at a point the history recorded a content checksum for. A replay
/// stops before the first segment that is missing or damaged.
/// </summary>
public static class SegmentReplay
{
    /// <summary>What a replay did.</summary>
    /// <param name="Segments">Segments applied whole.</param>
    /// <param name="Commits">Transactions applied.</param>
    /// <param name="ReachedAt">When the last applied commit was seen, when one was applied.</param>
    /// <param name="Stopped">Why the replay stopped before the planned end, when it did (the segment named).</param>
    public sealed record Result(int Segments, int Commits, DateTimeOffset? ReachedAt, string? Stopped)
    {
        /// <summary>What the replay read and wrote, and where its time went; <see langword="null"/> when nothing was replayed.</summary>
        public ReplayWork? Work { get; init; }

        /// <summary>Whether the proof that followed the replay read the whole result, not only the pages the replay changed.</summary>
        public bool ProofReadWhole { get; init; }
    }

    /// <summary>What a replay read and wrote, and where its time went: what a benchmark breaks a restore's time down by.</summary>
    /// <param name="FilesByLevel">Files applied (or stopped at) of each level, by level.</param>
    /// <param name="BytesRead">Bytes of history files read (each is read once to check it and again to apply it).</param>
    /// <param name="BytesDecompressed">Bytes of pages the level files held, decompressed.</param>
    /// <param name="PagesWritten">Pages written to the staged file.</param>
    /// <param name="DistinctPages">Different pages among them.</param>
    /// <param name="Checking">Time checking files against their records before applying them.</param>
    /// <param name="Applying">Time reading, decompressing and writing pages.</param>
    /// <param name="Syncing">Time in the fsync at the end.</param>
    public sealed record ReplayWork(IReadOnlyList<int> FilesByLevel, long BytesRead, long BytesDecompressed, long PagesWritten, long DistinctPages,
        TimeSpan Checking, TimeSpan Applying, TimeSpan Syncing);

    /// <summary>
    /// Replays <paramref name="segments"/> onto the staged database file <paramref name="database"/>. With
    /// <paramref name="skip"/>, the file already holds the first segment's frames up to that point: they are read
    /// and checked (the chain there must be the point's, at a commit), not applied.
    /// </summary>
    public static Result Apply(StagedFile database, string generation, IReadOnlyList<HistoryFile> segments, WalPosition? skip, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(segments);
        var tally = new Tally(TimeProvider.System);
        long? expected = null;
        var (applied, commits) = (0, 0);
        DateTimeOffset? reached = null;
        foreach (var segment in segments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Step(segment, expected, applied == 0 ? skip : null, database, tally, cancellationToken) is { } problem)
            {
                return Stop(logger, generation, Path.GetFileName(segment.Path), problem, database, applied, commits, reached, tally);
            }

            commits += segment.Manifest!.Commits;
            reached = segment.Manifest.LastCommitAt;
            expected = segment.Manifest.Last + 1;
            applied++;
        }

        Finish(database, tally);
        return new Result(applied, commits, reached, null) { Work = tally.Work() };
    }

    /// <summary>
    /// Checks one file of the plan (that it follows the one before, ending before segment <paramref name="expected"/>; its
    /// record; its bytes) and applies it whole. Returns why it cannot be applied, or <see langword="null"/>.
    /// </summary>
    private static string? Step(HistoryFile segment, long? expected, WalPosition? skip, StagedFile database, Tally tally, CancellationToken cancellationToken)
    {
        var level = segment.Manifest?.LevelOrZero ?? 0;
        tally.File(level, segment.Manifest?.Size ?? 0);
        var follows = expected is not { } e || (level == 0 ? segment.Sequence == e : segment.Sequence <= e && e <= segment.Manifest!.Last + 1);
        if (!follows)
        {
            return $"segment {ReplicationStore.SegmentName(expected!.Value)} is missing";
        }

        if (segment.Manifest is null)
        {
            return "it has no readable record";
        }

        var started = tally.Time.GetTimestamp();
        if (level > 0)
        {
            var damaged = LevelFile.Check(segment.Path, segment.Manifest, cancellationToken);
            tally.Checking += tally.Time.GetElapsedTime(started);
            if (damaged is not null)
            {
                return damaged;
            }

            started = tally.Time.GetTimestamp();
            var problem = ApplyLevel(segment, database, tally);
            tally.Applying += tally.Time.GetElapsedTime(started);
            return problem;
        }

        var unreadable = SegmentReader.Read(segment, skip, out var changes);
        tally.Checking += tally.Time.GetElapsedTime(started);
        if (unreadable is not null)
        {
            return unreadable;
        }

        started = tally.Time.GetTimestamp();
        changes.WriteTo(database, tally.Written);
        tally.Applying += tally.Time.GetElapsedTime(started);
        return null;
    }

    /// <summary>
    /// Reads and checks one segment whole, as a replay does, and brings <paramref name="hashes"/> past it without writing
    /// any file: what an audit of the history uses. Returns why the segment cannot be applied, or <see langword="null"/>.
    /// </summary>
    public static string? ApplyToHashes(PageHashes hashes, HistoryFile segment)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(segment);
        if (segment.Manifest is null)
        {
            return "it has no readable record";
        }

        if (segment.Manifest.LevelOrZero > 0)
        {
            if (LevelFile.Check(segment.Path, segment.Manifest, CancellationToken.None) is { } damaged)
            {
                return damaged;
            }

            try
            {
                LevelFile.Header? header = null;
                foreach (var (page, data) in LevelFile.Pages(segment.Path, h =>
                {
                    header = h;
                    if (h.SmallestPages < hashes.Pages)
                    {
                        hashes.Resize(h.SmallestPages);
                    }
                }))
                {
                    hashes.Set(page, data);
                }

                hashes.Resize(header!.FinalPages);
                return null;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or ZstdSharp.ZstdException)
            {
                return $"it cannot be read: {ex.Message}";
            }
        }

        if (SegmentReader.Read(segment, null, out var segmentChanges) is { } problem)
        {
            return problem;
        }

        segmentChanges.ApplyTo(hashes);
        return null;
    }

    /// <summary>
    /// Marks the file as a rollback-journal database (header bytes 18 and 19, which a replayed page 1 sets to
    /// WAL) so that it opens, read-only too, without a <c>-wal</c> beside it; the app switches it back to WAL on
    /// its first open. Then syncs it.
    /// </summary>
    private static void Finish(StagedFile database, Tally tally)
    {
        var started = tally.Time.GetTimestamp();
        if (database.Length >= 100)
        {
            database.Write(18, [1, 1]);
        }

        database.Flush();
        tally.Syncing += tally.Time.GetElapsedTime(started);
    }

    private static Result Stop(ILogger logger, string generation, string segment, string problem, StagedFile database, int applied, int commits, DateTimeOffset? reached, Tally tally)
    {
        Finish(database, tally);
        var at = reached is { } point ? Records.UtcMillisecondsConverter.Format(point) : "the backup itself";
        PersistenceLog.ReplayStopped(logger, generation, segment, problem, at);
        return new Result(applied, commits, reached, $"segment {segment}: {problem}") { Work = tally.Work() };
    }

    /// <summary>
    /// Applies a checked level file: the file is cut to the run's smallest size, each page it holds written, and the
    /// file set to the run's final size. Returns why it could not be read, or <see langword="null"/>; a level file that
    /// fails half-way leaves the staged file at no recorded point, which the proof that follows every replay refuses.
    /// </summary>
    private static string? ApplyLevel(HistoryFile segment, StagedFile database, Tally tally)
    {
        var pageSize = segment.Manifest!.PageSize;
        try
        {
            LevelFile.Header? header = null;
            foreach (var (page, data) in LevelFile.Pages(segment.Path, h =>
            {
                header = h;
                if ((long)h.SmallestPages * pageSize < database.Length)
                {
                    database.SetLength((long)h.SmallestPages * pageSize);
                }
            }))
            {
                database.Write((long)(page - 1) * pageSize, data);
                tally.Written(page);
                tally.BytesDecompressed += data.Length;
            }

            database.SetLength((long)header!.FinalPages * pageSize);
            return null;
        }
        catch (Exception ex) when (ex is InvalidDataException or ZstdSharp.ZstdException)
        {
            return $"it cannot be read: {ex.Message}";
        }
    }

    /// <summary>What a replay has read and written so far, and its time by step.</summary>
    private sealed class Tally(TimeProvider time)
    {
        private readonly int[] _files = new int[HistoryLevels.Top + 1];
        private readonly HashSet<uint> _pages = [];
        private long _bytesRead;
        private long _pagesWritten;

        public TimeProvider Time => time;

        public long BytesDecompressed { get; set; }

        public TimeSpan Checking { get; set; }

        public TimeSpan Applying { get; set; }

        public TimeSpan Syncing { get; set; }

        public void File(int level, long size)
        {
            _files[Math.Clamp(level, 0, _files.Length - 1)]++;
            _bytesRead += size;
        }

        public void Written(uint page)
        {
            _pagesWritten++;
            _pages.Add(page);
        }

        public ReplayWork Work() => new([.. _files], _bytesRead, BytesDecompressed, _pagesWritten, _pages.Count, Checking, Applying, Syncing);
    }
}
