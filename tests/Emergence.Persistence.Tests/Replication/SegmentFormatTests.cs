using System.Security.Cryptography;
using System.Text.Json;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// What a segment's file holds: one zstd stream of its frames, read back by the zstd CLI as well as by restores; the
/// frames themselves, as the first segments were written, still restore; a compression, a number of frames or a
/// window the history does not write stops the replay there.
/// </summary>
public sealed class SegmentFormatTests : ReplicationTest
{
    [Fact]
    public async Task ASegment_IsOneZstdStreamOfExactlyItsFrames_FarSmallerThanThem()
    {
        Commit(5, 0);
        SegmentManifest segment;
        using (var session = await OpenAsync())
        {
            Commit(200, 1); // one-row commits: each rewrites the same few pages
            H.Time.Advance(TimeSpan.FromSeconds(1));
            segment = session.Poll().Segment!;
        }

        var path = PathOf(segment);
        var frames = Decompress(path);

        Assert.Equal("zstd", segment.Codec);
        Assert.Equal(new FileInfo(path).Length, segment.Size);
        Assert.Equal((segment.LastFrame - segment.FirstFrame + 1) * (WalFormat.FrameHeaderSize + segment.PageSize), frames.Length);
        Assert.True(segment.Size * 4 < frames.Length, $"{segment.Size} bytes stored for {frames.Length} bytes of frames");
        // The last frame is the last commit's: its commit field holds the database's size in pages.
        Assert.Equal(segment.DatabasePages, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(frames.Length - WalFormat.FrameHeaderSize - segment.PageSize + 4)));
    }

    [Fact]
    public async Task SegmentsOfRawFrames_AsTheFirstOnesWereWritten_StillRestoreExactly()
    {
        Commit(5, 0);
        var segments = new List<SegmentManifest>();
        using (var session = await OpenAsync())
        {
            for (var batch = 1; batch <= 3; batch++)
            {
                Commit(20, batch);
                H.Time.Advance(TimeSpan.FromSeconds(1));
                segments.Add(session.Poll().Segment!);
            }
        }

        foreach (var segment in segments)
        {
            var path = PathOf(segment);
            var frames = Decompress(path);
            File.WriteAllBytes(path, frames);
            Rewrite(segment with { Codec = null, Size = frames.Length, Checksum = Convert.ToHexStringLower(SHA256.HashData(frames)) });
        }

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Null(result.Replay!.Stopped);
        Assert.Equal(3, result.Replay.Segments);
        Assert.Equal((65, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task ASegmentInACompressionThisVersionDoesNotRead_StopsTheReplayBeforeIt_NamingIt()
    {
        var (first, second) = await TwoSegmentsAsync();
        Rewrite(second with { Codec = "lz4" });

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Contains(second.Filename, result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.Contains("compression 'lz4'", result.Replay.Stopped, StringComparison.Ordinal);
        Assert.Equal(first.LastCommitAt, result.Replay.ReachedAt);
        Assert.Equal((15, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task ASegmentHoldingMoreFramesThanItsRecordSays_StopsTheReplayBeforeIt()
    {
        var (first, second) = await TwoSegmentsAsync();
        // A stream that decompresses to more than the record vouches for is not read on to its end.
        Rewrite(second with { LastFrame = second.LastFrame - 1 });

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Contains("more frames than its record says", result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.Equal(first.LastCommitAt, result.Replay.ReachedAt);
        Assert.Equal((15, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task ASegmentHoldingFewerFramesThanItsRecordSays_StopsTheReplayBeforeIt()
    {
        var (first, second) = await TwoSegmentsAsync();
        Rewrite(second with { LastFrame = second.LastFrame + 1 });

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Contains($"before frame {second.LastFrame + 1} where its record says it ends", result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.Equal(first.LastCommitAt, result.Replay.ReachedAt);
        Assert.Equal((15, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task AStreamDeclaringAWindowFarPastWhatTheHistoryWrites_IsRefusedBeforeItsFramesAreRead()
    {
        var (first, second) = await TwoSegmentsAsync();
        // The same frames in a stream whose header asks for a 128 MiB window (zstd's long mode, from a pipe: its size unknown).
        var path = PathOf(second);
        File.WriteAllBytes(path + ".raw", Decompress(path));
        var (exit, _, error) = Shell.Run("sh", "-c", $"zstd -q -1 --long=27 -c < '{path}.raw' > '{path}'");
        Assert.True(exit == 0, $"zstd exited {exit}: {error}");
        File.Delete(path + ".raw");
        var stored = File.ReadAllBytes(path);
        Rewrite(second with { Size = stored.Length, Checksum = Convert.ToHexStringLower(SHA256.HashData(stored)) });

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Contains("cannot be decompressed", result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.Equal(first.LastCommitAt, result.Replay.ReachedAt);
        Assert.Equal((15, true, "ok"), ReadBack());
    }

    private async Task<(SegmentManifest First, SegmentManifest Second)> TwoSegmentsAsync()
    {
        Commit(5, 0);
        using var session = await OpenAsync();
        Commit(10, 1);
        H.Time.Advance(TimeSpan.FromSeconds(1));
        var first = session.Poll().Segment!;
        Commit(10, 2);
        H.Time.Advance(TimeSpan.FromSeconds(1));
        return (first, session.Poll().Segment!);
    }

    private string PathOf(SegmentManifest segment) => Path.Combine(new ReplicationStore(H.BackupDirectory).DirectoryOf(segment.Generation), segment.Filename);

    private void Rewrite(SegmentManifest segment) =>
        File.WriteAllBytes(PathOf(segment) + ReplicationStore.ManifestSuffix, JsonSerializer.SerializeToUtf8Bytes(segment, PersistenceJson.Options));

    /// <summary>The segment's stream, decompressed by the zstd CLI: a reader of its own.</summary>
    private static byte[] Decompress(string path)
    {
        var output = path + ".out";
        var (exit, _, error) = Shell.Run("zstd", "-q", "-d", "-f", path, "-o", output);
        Assert.True(exit == 0, $"zstd exited {exit}: {error}");
        var frames = File.ReadAllBytes(output);
        File.Delete(output);
        return frames;
    }
}
