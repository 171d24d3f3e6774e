using Emergence.Persistence.Database;
using Emergence.Persistence.Platform;
using ZstdSharp;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Reads one segment whole and checks it before any page of it is used: its SHA-256 and size against its record, and
/// every frame against its log's salts and checksum chain; what its commits changed comes back as page changes. A
/// segment's file is one zstd stream of its frames (<see cref="HistoryZstd.Codec"/> in its record) or, as the first segments were
/// written, the frames themselves. A replay, an audit of the history and a merge into a level all read segments through it.
/// </summary>
internal static class SegmentReader
{
    /// <summary>Reads and checks one segment whole (SHA-256 and size against its record, every frame against the chain); returns why it cannot be applied, or <see langword="null"/>.</summary>
    public static string? Read(HistoryFile segment, WalPosition? skip, out PageChanges changes)
    {
        var manifest = segment.Manifest!;
        var walk = new FrameWalk(manifest.StartPosition, skip, manifest.LastFrame);
        changes = walk.Changes;
        var compressed = manifest.Codec is not null;
        if (compressed && manifest.Codec != HistoryZstd.Codec)
        {
            return $"its compression '{manifest.Codec}' is not one this version reads";
        }

        FileStream input;
        try
        {
            // Opened only as a regular file: a FIFO or a link to a device in a segment's place must not hang a restore.
            input = new FileStream(RegularFile.OpenRead(segment.Path), FileAccess.Read, 1 << 16);
        }
        catch (FileNotFoundException)
        {
            return "the segment file is missing";
        }
        catch (IOException ex)
        {
            return ex.Message;
        }

        using (input)
        {
            using var hash = new Sha256();
            using var hashing = new HashingStream(input, hash);
            string? problem = null;
            using var decompressing = compressed ? HistoryZstd.Reading(hashing, leaveOpen: true) : null;
            try
            {
                var frames = (Stream?)decompressing ?? hashing;
                var frame = new byte[walk.FrameSize];
                int read;
                while (problem is null && (read = frames.ReadAtLeast(frame, frame.Length, throwOnEndOfStream: false)) > 0)
                {
                    problem = walk.Take(frame, read);
                }
            }
            catch (EndOfStreamException)
            {
                problem = "its compressed stream ends early";
            }
            catch (ZstdException ex)
            {
                problem = $"it cannot be decompressed ({ex.Message})";
            }

            // After a problem, read on for the SHA-256, which names damage better than a frame does.
            hashing.CopyTo(Stream.Null);
            var checksum = hash.Finish();
            if (checksum != manifest.Checksum || hash.Count != manifest.Size)
            {
                return $"its SHA-256 does not match its record ({manifest.Checksum}, {manifest.Size} bytes)";
            }

            return problem ?? walk.Unfinished;
        }
    }

    /// <summary>
    /// A segment's frames checked one by one against its log's salts and checksum chain from the point it starts at;
    /// each commit's pages are added to <see cref="Changes"/>. With a skip point, the frames up to it are checked, not
    /// kept, and the chain there must be the point's, at a commit. A page's buffer is used again once a later version
    /// of the page replaces it: a segment of one busy second rewrites the same few pages hundreds of times.
    /// </summary>
    private sealed class FrameWalk(WalPosition start, WalPosition? skip, long lastFrame)
    {
        private readonly WalFormat.Header _header = start.Header;
        private readonly List<(uint Page, byte[] Data)> _pending = [];
        private readonly Stack<byte[]> _spare = new();
        private WalFormat.Chain _chain = start.Chain;
        private long _frames = start.Frames;

        /// <summary>The commits' pages so far.</summary>
        public PageChanges Changes { get; } = new(start.PageSize);

        /// <summary>A frame's size: its header and a page.</summary>
        public int FrameSize => WalFormat.FrameHeaderSize + start.PageSize;

        /// <summary>Why the segment ends where it does, when it ends inside a transaction or before the last frame its record names; <see langword="null"/> otherwise.</summary>
        public string? Unfinished =>
            _pending.Count > 0 ? $"it ends inside a transaction after frame {_frames}"
            : _frames < lastFrame ? $"it ends after frame {_frames}, before frame {lastFrame} where its record says it ends"
            : null;

        /// <summary>Checks the next frame (<paramref name="read"/> bytes of it read) and keeps its page; returns why it cannot be applied, or <see langword="null"/>.</summary>
        public string? Take(byte[] frame, int read)
        {
            if (_frames >= lastFrame)
            {
                return $"it holds more frames than its record says (the last is frame {lastFrame})";
            }

            if (read < FrameSize)
            {
                return $"it ends inside frame {_frames + 1}";
            }

            if (WalFormat.CheckFrame(_header, _chain, frame) is not { } next)
            {
                return $"frame {_frames + 1} fails its checksum";
            }

            _chain = next;
            _frames++;
            var commit = WalFormat.CommitSize(frame);
            if (skip is not null && _frames <= skip.Frames)
            {
                return _frames == skip.Frames && (commit == 0 || _chain.S1 != skip.S1 || _chain.S2 != skip.S2)
                    ? $"the backup's log point (frame {skip.Frames}) is not a commit of this segment's log"
                    : null;
            }

            var page = _spare.Count > 0 ? _spare.Pop() : new byte[start.PageSize];
            frame.AsSpan(WalFormat.FrameHeaderSize, start.PageSize).CopyTo(page);
            _pending.Add((WalFormat.PageNumber(frame), page));
            if (commit != 0)
            {
                Changes.Commit(_pending, commit, _spare);
                _pending.Clear();
            }

            return null;
        }
    }
}
