using Emergence.Persistence.Database;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;
using ZstdSharp;

namespace Emergence.Persistence.Replication;

// The segment being filled, and how it is made durable.
public sealed partial class ReplicationSession
{
    /// <summary>
    /// The segment being filled: the commits copied since it began, compressed into its temporary file, not yet durable.
    /// Between a copy and <see cref="Close"/> the frames are only in the log and that file: a crash before it leaves the
    /// stored generation at its last durable segment, which no longer follows the log, so the next start begins a new
    /// generation rather than leave a gap. Zstd at its fastest level: a busy second rewrites the same few pages hundreds
    /// of times, and each version is found in the one before it, so the disk takes a small part of the log's bytes
    /// (measured here, about an eighteenth for one-row commits) for less than a millisecond of a core per second of them.
    /// </summary>
    private sealed class OpenSegment : IDisposable
    {
        public OpenSegment(string tempPath, FileStream file, long sequence, string name, WalPosition origin, ulong startHash, bool resumedByContent)
        {
            (TempPath, File, Sequence, Name, Origin, StartHash, ResumedByContent) = (tempPath, file, sequence, name, origin, startHash, resumedByContent);
            Hashing = new HashingStream(file, Hash);
            Frames = HistoryZstd.Writing(Hashing);
            To = origin;
            EndHash = startHash;
        }

        public string TempPath { get; }

        public FileStream File { get; }

        /// <summary>The SHA-256 of the file's bytes (compressed), as written.</summary>
        public Sha256 Hash { get; } = new();

        /// <summary>The file, hashing what is written to it.</summary>
        public HashingStream Hashing { get; }

        /// <summary>Where the frames go: compressed into <see cref="Hashing"/>.</summary>
        public CompressionStream Frames { get; }

        public long Sequence { get; }

        public string Name { get; }

        public WalPosition Origin { get; }

        public ulong StartHash { get; }

        public bool ResumedByContent { get; }

        public WalPosition To { get; set; }

        public int Commits { get; set; }

        public uint DatabasePages { get; set; }

        public ulong EndHash { get; set; }

        /// <summary>When its last commits had been copied: every commit in it was made before.</summary>
        public DateTimeOffset SeenAt { get; set; }

        /// <summary>The start of the step that last copied into it: every commit before was in the log then, and is in it.</summary>
        public DateTimeOffset Covers { get; set; }

        /// <summary>Ends the compressed stream: after it, the file holds the whole segment.</summary>
        public void Finish() => Frames.Dispose();

        /// <summary>
        /// Releases the file and its streams. What they still hold is only ever written here for a segment being
        /// dropped (<see cref="Close"/> ends the stream and syncs the file itself first, and reports what fails there),
        /// so a write that fails now (the volume full) is not an error: the file is deleted next.
        /// </summary>
        public void Dispose()
        {
            try
            {
                Frames.Dispose();
            }
            catch (Exception ex) when (ex is IOException or ZstdException)
            {
                // The segment is being dropped: see above.
            }

            try
            {
                File.Dispose();
            }
            catch (IOException)
            {
                // The same.
            }

            Hash.Dispose();
        }
    }

    /// <summary>
    /// Copies the commits since the position, up to the end of the log the held reader sees (what SQLite has published
    /// as committed when it began), into the open segment (beginning one when there is none) and moves the
    /// position on. When the log restarted since the open segment's last frame, that segment is made durable first and
    /// added to <paramref name="closed"/>: a segment holds the frames of one log. The content checksum follows every copied commit; any failure
    /// ends the session (its checksum is then ahead of the stored history), and the next one proves where it stands again.
    /// </summary>
    private void Append(DateTimeOffset started, List<SegmentManifest> closed)
    {
        var before = _hashes.Checksum;
        _buffer.SetLength(0);
        var read = WalTail.CopyCommitted(WalPath, Position, PublishedLogEnd.Of(_readers[_current]), _buffer, null, Apply);
        var seenAt = _time.GetUtcNow();
        if (read.Continuity == WalTail.Continuity.Broken)
        {
            Abandon();
            throw new ReplicationBrokenException(read.Why!);
        }

        if (read.Bytes == 0)
        {
            Position = read.To ?? Position;
            return;
        }

        if (_open is not null && _open.To != read.From)
        {
            closed.Add(Close());
        }

        _open ??= Begin(read.From!, before);
        var bytes = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
        _open.Frames.Write(bytes);
        _open.To = read.To!;
        _open.Commits += read.Commits;
        _open.DatabasePages = read.DatabasePages;
        _open.EndHash = _hashes.Checksum;
        _open.SeenAt = seenAt;
        _open.Covers = started;
        Position = read.To;
    }

    private OpenSegment Begin(WalPosition origin, ulong startHash)
    {
        var name = ReplicationStore.SegmentName(NextSequence);
        var temp = Path.Combine(_store.DirectoryOf(Generation.Id), name) + Durable.TempSuffix;
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var open = new OpenSegment(temp, file, NextSequence, name, origin, startHash, _resumedByContent);
        _resumedByContent = false;
        NextSequence++;
        return open;
    }

    /// <summary>Brings the content checksum past one copied transaction: its pages, then the database's size after it.</summary>
    private void Apply(IReadOnlyList<byte[]> frames, uint databasePages)
    {
        foreach (var frame in frames)
        {
            _hashes.Set(WalFormat.PageNumber(frame), frame.AsSpan(WalFormat.FrameHeaderSize));
        }

        _hashes.Resize(databasePages);
    }

    /// <summary>Makes the open segment durable: fsyncs it, renames it into place and writes its manifest.</summary>
    private SegmentManifest Close()
    {
        var open = _open!;
        _open = null;
        using var span = PersistenceActivities.Start(PersistenceActivities.SegmentCommit);
        try
        {
            open.Finish();
            open.File.Flush(flushToDisk: true);
            open.File.Dispose();
            var seenAt = Stamp(open.SeenAt);
            var manifest = new SegmentManifest
            {
                Generation = Generation.Id,
                Sequence = open.Sequence,
                Filename = open.Name,
                Salt1 = open.Origin.Salt1,
                Salt2 = open.Origin.Salt2,
                CheckpointSequence = open.Origin.CheckpointSequence,
                FirstFrame = open.Origin.Frames + 1,
                LastFrame = open.To.Frames,
                StartChain = [open.Origin.S1, open.Origin.S2],
                EndChain = [open.To.S1, open.To.S2],
                PageSize = open.Origin.PageSize,
                BigEndianChecksums = open.Origin.BigEndianChecksums,
                Commits = open.Commits,
                DatabasePages = open.DatabasePages,
                FirstCommitAt = seenAt,
                LastCommitAt = seenAt,
                Size = open.Hashing.Count,
                Checksum = open.Hash.Finish(),
                Codec = HistoryZstd.Codec,
                Format = GenerationManifest.CurrentFormat,
                StartHash = PageHashes.Format(open.StartHash),
                EndHash = PageHashes.Format(open.EndHash),
                ResumedByContent = open.ResumedByContent ? true : null,
            };
            var committed = _store.Commit(open.TempPath, manifest);
            _caughtUpAt = open.Covers;
            return committed;
        }
        finally
        {
            open.Dispose();
        }
    }

    /// <summary>Drops the open segment's temporary file (the session is ending without it).</summary>
    private void Abandon()
    {
        if (_open is { } open)
        {
            _open = null;
            open.Dispose();
            try
            {
                File.Delete(open.TempPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A temporary file is never taken for a segment (it has no manifest); the session's own error, if any, is the one to report.
            }
        }
    }
}
