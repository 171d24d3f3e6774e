using Emergence.Persistence.Database;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Replication;

// The segment being filled, and how it is made durable.
public sealed partial class ReplicationSession
{
    /// <summary>
    /// The segment being filled: the commits copied since it began, in its temporary file, not yet durable. Between a
    /// copy and <see cref="Close"/> the frames are only in the log and that file: a crash before it leaves the stored
    /// generation at its last durable segment, which no longer follows the log, so the next start begins a new
    /// generation rather than leave a gap.
    /// </summary>
    private sealed class OpenSegment(string tempPath, FileStream file, long sequence, string name, WalPosition origin, ulong startHash, bool resumedByContent) : IDisposable
    {
        public string TempPath { get; } = tempPath;

        public FileStream File { get; } = file;

        public Sha256 Hash { get; } = new();

        public long Sequence { get; } = sequence;

        public string Name { get; } = name;

        public WalPosition Origin { get; } = origin;

        public ulong StartHash { get; } = startHash;

        public bool ResumedByContent { get; } = resumedByContent;

        public WalPosition To { get; set; } = origin;

        public int Commits { get; set; }

        public uint DatabasePages { get; set; }

        public long Bytes { get; set; }

        public ulong EndHash { get; set; } = startHash;

        /// <summary>When its last commits had been copied: every commit in it was made before.</summary>
        public DateTimeOffset SeenAt { get; set; }

        /// <summary>The start of the step that last copied into it: every commit before was in the log then, and is in it.</summary>
        public DateTimeOffset Covers { get; set; }

        public void Dispose()
        {
            File.Dispose();
            Hash.Dispose();
        }
    }

    /// <summary>
    /// Copies the commits since the position into the open segment (beginning one when there is none) and moves the
    /// position on. When the log restarted since the open segment's last frame, that segment is made durable first and
    /// added to <paramref name="closed"/>: a segment holds the frames of one log. The content checksum follows every copied commit; any failure
    /// ends the session (its checksum is then ahead of the stored history), and the next one proves where it stands again.
    /// </summary>
    private void Append(DateTimeOffset started, List<SegmentManifest> closed)
    {
        var before = _hashes.Checksum;
        _buffer.SetLength(0);
        var read = WalTail.CopyCommitted(WalPath, Position, _buffer, null, Apply);
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
        _open.File.Write(bytes);
        _open.Hash.Append(bytes);
        _open.To = read.To!;
        _open.Commits += read.Commits;
        _open.DatabasePages = read.DatabasePages;
        _open.Bytes += read.Bytes;
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
                Size = open.Bytes,
                Checksum = open.Hash.Finish(),
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
