using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The history goes up with the snapshot, verified: every segment, the level files from the minute level up, a file larger than a part, only
/// the new segments on a later pass; a wiped volume restores every row, and any point, from the container.
/// </summary>
public sealed class OffsiteReplicationTests : OffsiteReplicationTest
{
    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_CopiesTheSnapshotAndEverySegmentVerified_AndTheWipedVolumeRestoresEveryRow(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);

        Assert.True(await UploadAsync());

        // The snapshot went first (the container was empty), then the generation and each segment, with its checksum.
        var generation = new ReplicationStore(H.BackupDirectory).Generations(H.DatabasePath).Single();
        Assert.True(await Server.ExistsAsync(generation.BaseBackup + BackupNaming.ManifestSuffix, Token));
        foreach (var segment in segments)
        {
            var properties = (await Server.Objects.GetAsync(OffsiteHistory.SegmentBlob(segment.Generation, segment.Sequence), Token))!;
            Assert.Equal(segment.Checksum, properties.Metadata[OffsiteStore.ChecksumMetadataKey]);
            Assert.Equal(segment.Size, properties.Size);
        }

        var report = H.Get<HealthReporter>().Check(H.Locate());
        Assert.Equal(0, report.Backups.Replication!.OffsiteLagSeconds);
        Assert.Null(report.Backups.Replication.OffsiteLastError);

        WipeVolume();
        var restored = await RestoreOffsiteAsync(null);

        Assert.Equal(Container, restored.OffsiteContainer);
        Assert.Equal(3, restored.Replay!.Segments);
        Assert.Null(restored.Replay.Stopped);
        Assert.Equal(segments[^1].LastCommitAt, restored.RestoredTo);
        Assert.Equal((35, true, "ok"), ReadBack());
        Assert.Empty(Directory.GetDirectories(new ReplicationStore(H.BackupDirectory).Root, ".restore-*"));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task LevelFiles_GoUpToo_AndAWipedVolumeRestoresAPointThroughFewObjects(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(12 * 60, perBatch: 1);
        var generation = new ReplicationStore(H.BackupDirectory).Generations(H.DatabasePath).Single();
        var levels = HistoryCompactor.Compact(new ReplicationStore(H.BackupDirectory), generation, closed: false, NullLogger.Instance, Token);
        Assert.Contains(levels, l => l.Level == 3);

        Assert.True(await UploadAsync());
        foreach (var level in levels.Where(l => l.Level >= HistoryLevels.FinestOffVolume))
        {
            Assert.Equal(level.Checksum, (await Server.Objects.GetAsync(OffsiteHistory.FileBlob(level), Token))!.Metadata[OffsiteStore.ChecksumMetadataKey]);
        }

        // The 10-second files stay on the volume: off it, each costs a request a segment already paid for.
        Assert.Contains(levels, l => l.Level == 1);
        foreach (var fine in levels.Where(l => l.Level < HistoryLevels.FinestOffVolume))
        {
            Assert.Null(await Server.Objects.GetAsync(OffsiteHistory.FileBlob(fine), Token));
        }

        WipeVolume();
        var target = segments[11 * 60 + 30].LastCommitAt;
        var restored = await RestoreOffsiteAsync(target);

        Assert.Equal(target, restored.RestoredTo);
        Assert.InRange(restored.Replay!.Segments, 1, 40); // a 10-minute file, a minute file, 31 segments: not 690 objects
        Assert.Equal((5 + (11 * 60) + 31, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task AHistoryFileLargerThanAPart_GoesUpInParts_AndRestores(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        SegmentManifest big;
        using (var session = await ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), H.Get<BackupService>(), H.Time, NullLogger.Instance, 64L << 20, null, Token))
        {
            Commit(10, 1);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.NotNull(session.Poll().Segment);
            Execute($"INSERT INTO rows (n, batch, pad) VALUES ({Next++}, 2, randomblob({FileParts.PartSize + (2 << 20)}))");
            H.Time.Advance(TimeSpan.FromSeconds(1));
            big = session.Poll().Segment!;
        }

        Assert.True(big.Size > FileParts.PartSize, $"the segment is only {big.Size} bytes");

        Assert.True(await UploadAsync());

        var blob = OffsiteHistory.FileBlob(big);
        Assert.True(await Server.PartsAsync(blob, Token) is null or >= 2, "a history file larger than a part went up in one request");
        Assert.Equal(big.Checksum, (await Server.Objects.GetAsync(blob, Token))!.Metadata[OffsiteStore.ChecksumMetadataKey]);
        Assert.Equal(big.Checksum, await Server.Sha256Async(blob, Token));
        WipeVolume();
        var restored = await RestoreOffsiteAsync(big.LastCommitAt);
        Assert.Equal(big.LastCommitAt, restored.RestoredTo);
        Assert.Equal((16, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_AfterMoreSegments_CopiesOnlyTheNewOnes_AndRestoreToManyPointsGivesPrefixes(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var first = await ReplicateAsync(2);
        await UploadAsync();
        var uploaded = (await Server.Objects.GetAsync(OffsiteHistory.SegmentBlob(first[0].Generation, 1), Token))!.LastModified;

        // The session resumes the generation: segments 3 and 4 follow.
        var more = await ReplicateAsync(2);
        await UploadAsync();

        Assert.Equal(first[0].Generation, more[0].Generation);
        Assert.Equal(uploaded, (await Server.Objects.GetAsync(OffsiteHistory.SegmentBlob(first[0].Generation, 1), Token))!.LastModified);
        var all = first.Concat(more).ToList();
        for (var k = 0; k < all.Count; k++)
        {
            WipeVolume();
            await RestoreOffsiteAsync(all[k].LastCommitAt);
            Assert.Equal((5 + (10 * (k + 1)), true, "ok"), ReadBack());
        }
    }
}
