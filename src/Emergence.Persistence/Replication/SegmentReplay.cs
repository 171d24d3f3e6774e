using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Applies segments to a staged copy of a backup, as a checkpoint applies a log: each committed
/// transaction's pages are written at their place and the file set to the size its commit frame
/// gives. A transaction is applied whole or not at all; every frame is checked against its log's salts and
/// checksum chain, and every segment against the one before it, so a replay never skips a transaction:
/// it stops at the last whole commit before a segment that is missing, damaged or does not follow.
/// </summary>
public static class SegmentReplay
{
    /// <summary>What a replay did.</summary>
    /// <param name="Segments">Segments applied whole.</param>
    /// <param name="Commits">Transactions applied.</param>
    /// <param name="ReachedAt">When the last applied commit was seen, when one was applied.</param>
    /// <param name="Stopped">Why the replay stopped before the planned end, when it did (the segment named).</param>
    public sealed record Result(int Segments, int Commits, DateTimeOffset? ReachedAt, string? Stopped);

    /// <summary>Replays <paramref name="segments"/> onto the database file at <paramref name="stagingPath"/>.</summary>
    public static Result Apply(string stagingPath, string generation, IReadOnlyList<ReplicationStore.StoredSegment> segments, ILogger logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        using var database = new FileStream(stagingPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        WalPosition? position = null;
        long? expected = null;
        var (applied, commits) = (0, 0);
        DateTimeOffset? reached = null;
        foreach (var segment in segments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(segment.Path);
            var problem = Problem(segment, expected, position);
            var manifest = segment.Manifest;
            if (problem is not null)
            {
                return Stop(logger, generation, name, problem, database, applied, commits, reached);
            }

            var start = new WalPosition(manifest!.Salt1, manifest.Salt2, manifest.CheckpointSequence, manifest.FirstFrame - 1, manifest.StartChain[0], manifest.StartChain[1], manifest.PageSize, manifest.BigEndianChecksums);
            using var hash = new Sha256();
            var (done, end, frameProblem) = ApplyFrames(database, segment.Path, start, hash);
            var damaged = hash.Finish() != manifest.Checksum ? $"its SHA-256 does not match its manifest ({manifest.Checksum})" : null;
            commits += done;
            if (done > 0)
            {
                reached = manifest.LastCommitAt;
            }

            if ((damaged ?? frameProblem) is { } why)
            {
                return Stop(logger, generation, name, done > 0 ? $"{why}; its first {done} whole transactions were applied" : why, database, applied, commits, reached);
            }

            position = end;
            expected = segment.Sequence + 1;
            applied++;
        }

        Finish(database);
        return new Result(applied, commits, reached, null);
    }

    /// <summary>
    /// Marks the file as a rollback-journal database (header bytes 18 and 19, which a replayed page 1 sets to
    /// WAL) so that it opens, read-only too, without a <c>-wal</c> beside it; the app switches it back to WAL on
    /// its first open. Then syncs it.
    /// </summary>
    private static void Finish(FileStream database)
    {
        if (database.Length >= 100)
        {
            database.Position = 18;
            database.Write([1, 1]);
        }

        database.Flush(flushToDisk: true);
    }

    private static Result Stop(ILogger logger, string generation, string segment, string problem, FileStream database, int applied, int commits, DateTimeOffset? reached)
    {
        Finish(database);
        var at = (reached is { } point ? Records.UtcMillisecondsConverter.Format(point) : "the backup itself");
        PersistenceLog.ReplayStopped(logger, generation, segment, problem, at);
        return new Result(applied, commits, reached, $"segment {segment}: {problem}");
    }

    /// <summary>Why a segment cannot be applied after the one before it, or <see langword="null"/>.</summary>
    private static string? Problem(ReplicationStore.StoredSegment segment, long? expected, WalPosition? previous)
    {
        if (expected is { } e && segment.Sequence != e)
        {
            return $"segment {ReplicationStore.SegmentName(e)} is missing";
        }

        if (segment.Manifest is not { } m)
        {
            return "it has no readable manifest";
        }

        if (!File.Exists(segment.Path))
        {
            return "the segment file is missing";
        }

        if (previous is null)
        {
            return null;
        }

        var sameLog = m.Salt1 == previous.Salt1 && m.Salt2 == previous.Salt2 && m.CheckpointSequence == previous.CheckpointSequence;
        if (sameLog)
        {
            return m.FirstFrame == previous.Frames + 1 && m.StartChain[0] == previous.S1 && m.StartChain[1] == previous.S2
                ? null
                : $"it does not continue the previous segment (frame {m.FirstFrame} after frame {previous.Frames})";
        }

        var nextLog = m.CheckpointSequence == unchecked(previous.CheckpointSequence + 1) && m.Salt1 == unchecked(previous.Salt1 + 1) && m.FirstFrame == 1;
        return nextLog ? null : "it belongs to a log that does not follow the previous segment's";
    }

    /// <summary>
    /// Applies a segment's whole transactions; returns how many, the position after the last, and why it stopped
    /// early. Every byte of the segment goes through <paramref name="hash"/>, also past a frame that fails, so the
    /// file is read once for both.
    /// </summary>
    private static (int Commits, WalPosition End, string? Problem) ApplyFrames(FileStream database, string segmentPath, WalPosition start, Sha256 hash)
    {
        var pageSize = start.PageSize;
        var frameSize = WalFormat.FrameHeaderSize + pageSize;
        var header = start.Header;
        var chain = start.Chain;
        var committed = start;
        var pending = new List<(uint Page, byte[] Data)>();
        var commits = 0;
        var frames = start.Frames;
        using var input = new FileStream(segmentPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var frame = new byte[frameSize];
        int read;
        while ((read = input.ReadAtLeast(frame, frameSize, throwOnEndOfStream: false)) > 0)
        {
            hash.Append(frame.AsSpan(0, read));
            if (read < frameSize)
            {
                return (commits, committed, $"it ends inside frame {frames + 1}");
            }

            if (WalFormat.CheckFrame(header, chain, frame) is not { } next)
            {
                HashRest(input, frame, hash);
                return (commits, committed, $"frame {frames + 1} fails its checksum");
            }

            chain = next;
            frames++;
            pending.Add((WalFormat.PageNumber(frame), frame[WalFormat.FrameHeaderSize..]));
            if (WalFormat.CommitSize(frame) is var size and not 0)
            {
                foreach (var (page, data) in pending)
                {
                    database.Position = (long)(page - 1) * pageSize;
                    database.Write(data);
                }

                database.SetLength((long)size * pageSize);
                pending.Clear();
                commits++;
                committed = start with { Frames = frames, S1 = chain.S1, S2 = chain.S2 };
            }
        }

        return pending.Count > 0 ? (commits, committed, $"it ends inside a transaction after frame {frames}") : (commits, committed, null);
    }

    private static void HashRest(FileStream input, byte[] buffer, Sha256 hash)
    {
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            hash.Append(buffer.AsSpan(0, read));
        }
    }
}
