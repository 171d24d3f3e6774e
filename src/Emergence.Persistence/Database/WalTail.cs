namespace Emergence.Persistence.Database;

/// <summary>
/// Copies the committed frames a write-ahead log holds past a position, reading the <c>-wal</c> file with
/// ordinary reads (SQLite's locks are on the database file and the <c>-shm</c>, which are not touched).
/// Only what SQLite has published is copied (<see cref="PublishedLogEnd"/>): frames past it, however valid, are a
/// transaction still being written, or one whose writer died before publishing it and which the next writer writes
/// over. Within what is published every frame must follow the position; one that does not breaks the history.
/// </summary>
internal static class WalTail
{
    /// <summary>
    /// The position after the last transaction <paramref name="published"/> holds in the log at <paramref name="walPath"/>,
    /// read with ordinary reads; <see langword="null"/> when there is no log or it has no valid header yet.
    /// </summary>
    /// <exception cref="IOException">The log does not hold what SQLite reports committed in it.</exception>
    public static WalPosition? EndOf(string walPath, PublishedLogEnd published)
    {
        var read = CopyCommitted(walPath, null, published, Stream.Null);
        return read.Continuity switch
        {
            Continuity.NoLog => null,
            Continuity.Broken => throw new IOException($"the log {walPath} cannot be read to its committed end: {read.Why}"),
            _ => read.To,
        };
    }

    /// <summary>How the log found relates to the position read from.</summary>
    public enum Continuity
    {
        /// <summary>There is no log, or it has no valid header yet: nothing to copy.</summary>
        NoLog,

        /// <summary>
        /// The same log (its salts): frames were read on from the position, or from the log's start when its header was
        /// written again before any of its frames was copied; or nothing past the position is published yet.
        /// </summary>
        SameLog,

        /// <summary>
        /// Another log than the position's (its salts differ): the log restarted, and frames were read from its start. That it
        /// is the very next log, and that every frame of the position's log had been copied, the caller knows by holding a
        /// read transaction without a break since the position was read: under a reader, SQLite restarts a log only when
        /// every frame is checkpointed and the reader reads none of them, and then cannot checkpoint the next log's frames
        /// (so cannot restart it again) until that reader ends.
        /// </summary>
        NextLog,

        /// <summary>
        /// The position's frames are no longer there, a frame SQLite reports committed does not follow them, or the page
        /// size changed: the history cannot be followed.
        /// </summary>
        Broken,
    }

    /// <summary>What a read found and copied.</summary>
    /// <param name="Continuity">How the log relates to the position.</param>
    /// <param name="From">Where the copied frames start (the position, or the start of the next log).</param>
    /// <param name="To">The position after the last copied commit.</param>
    /// <param name="Bytes">The bytes of frames copied.</param>
    /// <param name="Commits">The transactions copied.</param>
    /// <param name="DatabasePages">The database's size in pages after the last copied commit (0 when none).</param>
    /// <param name="LogBytes">The size of the <c>-wal</c> file.</param>
    /// <param name="Why">For <see cref="Continuity.Broken"/>: what does not follow.</param>
    public sealed record Result(Continuity Continuity, WalPosition? From, WalPosition? To, long Bytes, int Commits, uint DatabasePages, long LogBytes, string? Why = null);

    /// <summary>
    /// Copies into <paramref name="destination"/> every frame after <paramref name="position"/> up to the end
    /// <paramref name="published"/> (read from a read transaction begun before this call), from the start of the log when
    /// <paramref name="position"/> is <see langword="null"/>, feeding
    /// <paramref name="hash"/> with exactly what is written. A transaction's frames are held until its commit
    /// frame is read, so only whole transactions are ever written; <paramref name="committed"/> is given each whole
    /// transaction's frames and the database's size in pages after it, in order, before the next is read; the frames'
    /// buffers are used again once it returns, so it must not keep them.
    /// </summary>
    public static Result CopyCommitted(string walPath, WalPosition? position, PublishedLogEnd published, Stream destination, Platform.Sha256? hash = null, Action<IReadOnlyList<byte[]>, uint>? committed = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(published);
        FileStream wal;
        try
        {
            wal = new FileStream(walPath, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0 });
        }
        catch (FileNotFoundException)
        {
            return new Result(Continuity.NoLog, position, position, 0, 0, 0, 0);
        }

        using (wal)
        {
            var length = wal.Length;
            var headerBytes = new byte[WalFormat.HeaderSize];
            if (wal.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length || WalFormat.ReadHeader(headerBytes) is not { } header)
            {
                return new Result(Continuity.NoLog, position, position, 0, 0, 0, length);
            }

            var (continuity, origin, why) = Follow(position, header, length);
            if (origin is null)
            {
                return new Result(Continuity.Broken, position, position, 0, 0, 0, length, why);
            }

            if (!published.IsLog(header))
            {
                // The file's log is not the one published: a writer is restarting the log (the wal-index names the
                // next log before the file's header does), or restarted it after the reader began. Nothing of the
                // file's log is published to the reader; the position's own log must then be copied to its end.
                return position is not null && published.IsLog(position.Header) && position.Frames < published.Frames
                    ? new Result(Continuity.Broken, position, position, 0, 0, 0, length, $"the log restarted before its frames {position.Frames + 1} to {published.Frames}, which SQLite reported committed, were copied")
                    : new Result(Continuity.SameLog, position, position, 0, 0, 0, length);
            }

            var copied = CopyWholeTransactions(wal, header, origin, published.Frames, destination, hash, committed);
            if (copied.Frames < published.Frames)
            {
                return new Result(Continuity.Broken, position, position, 0, 0, 0, length,
                    $"frame {copied.Frames + 1} of the log, which SQLite reports committed (to frame {published.Frames}), does not follow the frames copied before it");
            }

            var to = origin with { Frames = copied.Frames, S1 = copied.Chain.S1, S2 = copied.Chain.S2 };
            return new Result(continuity, origin, to, copied.Bytes, copied.Commits, copied.Pages, length);
        }
    }

    /// <summary>
    /// Where copying resumes in the log whose header is <paramref name="header"/>: after <paramref name="position"/> in
    /// the same log, or from the start of the next one; no origin (and why) when the log does not follow it.
    /// </summary>
    private static (Continuity Continuity, WalPosition? Origin, string? Why) Follow(WalPosition? position, WalFormat.Header header, long length)
    {
        Continuity continuity;
        WalPosition origin;
        if (position is null)
        {
            (continuity, origin) = (Continuity.SameLog, WalPosition.StartOf(header));
        }
        else if (position.IsLog(header))
        {
            (continuity, origin) = (Continuity.SameLog, position);
        }
        else if (position.IsOtherLog(header))
        {
            (continuity, origin) = (Continuity.NextLog, WalPosition.StartOf(header));
        }
        else if (position.Frames == 0)
        {
            // The same salts, another header: a connection restarted the log and wrote its header, then rolled back
            // (or died) before committing a frame, and another connection wrote the log's first frame under a header of
            // its own (a connection that has restarted a log before keeps the salts the wal-index names, with its own
            // checkpoint sequence). Nothing of the log was copied: it is followed from its new start.
            (continuity, origin) = (Continuity.SameLog, WalPosition.StartOf(header));
        }
        else
        {
            return (Continuity.Broken, null, $"the log's header changed (checkpoint sequence {position.CheckpointSequence} → {header.CheckpointSequence}) without new salts");
        }

        if (header.PageSize != origin.PageSize)
        {
            return (Continuity.Broken, null, $"the page size changed origin {origin.PageSize} to {header.PageSize}");
        }

        var offset = WalFormat.HeaderSize + (origin.Frames * (WalFormat.FrameHeaderSize + header.PageSize));
        return continuity == Continuity.SameLog && offset > length
            ? (Continuity.Broken, null, $"the log is shorter ({length} bytes) than the {origin.Frames} frames already copied")
            : (continuity, origin, null);
    }

    /// <summary>
    /// Reads the frames after <paramref name="origin"/> up to frame <paramref name="end"/> while they check, writing each
    /// transaction's frames once its commit frame is read; returns what was written and where the last whole
    /// transaction ends (short of <paramref name="end"/> only when a frame before it did not check).
    /// </summary>
    private static (long Bytes, long Frames, WalFormat.Chain Chain, uint Pages, int Commits) CopyWholeTransactions(FileStream wal, WalFormat.Header header, WalPosition origin, long end,
        Stream destination, Platform.Sha256? hash, Action<IReadOnlyList<byte[]>, uint>? committed)
    {
        var frameSize = WalFormat.FrameHeaderSize + header.PageSize;
        var chain = origin.Chain;
        var frames = origin.Frames;
        var done = (Bytes: 0L, Frames: frames, Chain: chain, Pages: 0u);
        var commits = 0;
        var pending = new List<byte[]>();

        // A transaction's frame buffers are used again for the next one once it is written (the callback is given them
        // only until it returns): a busy log is read every step, and a new buffer per frame was most of what the
        // replicator allocated, each collection stopping the app's writer with it.
        var spare = new Stack<byte[]>();
        wal.Position = WalFormat.HeaderSize + (origin.Frames * frameSize);
        while (frames < end)
        {
            var frame = spare.Count > 0 ? spare.Pop() : new byte[frameSize];
            if (wal.ReadAtLeast(frame, frameSize, throwOnEndOfStream: false) != frameSize || WalFormat.CheckFrame(header, chain, frame) is not { } next)
            {
                break;
            }

            chain = next;
            frames++;
            pending.Add(frame);
            var commitSize = WalFormat.CommitSize(frame);
            if (commitSize != 0)
            {
                foreach (var whole in pending)
                {
                    destination.Write(whole);
                    hash?.Append(whole);
                }

                committed?.Invoke(pending, commitSize);
                commits++;
                done = (done.Bytes + (pending.Count * (long)frameSize), frames, chain, commitSize);
                foreach (var written in pending)
                {
                    spare.Push(written);
                }

                pending.Clear();
            }
        }

        return (done.Bytes, done.Frames, done.Chain, done.Pages, commits);
    }
}
