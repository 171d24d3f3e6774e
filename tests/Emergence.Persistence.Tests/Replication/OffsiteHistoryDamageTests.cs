using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A segment damaged in the container (corrupted, truncated, missing): a restore stops at the last whole commit
/// before it and names it, and the drill fails on it.
/// </summary>
public sealed class OffsiteHistoryDamageTests : OffsiteReplicationTest
{
    public static TheoryData<TargetKind, string> KindsAndDamages => new()
    {
        { TargetKind.Azure, "corrupt" }, { TargetKind.Azure, "truncate" }, { TargetKind.Azure, "delete" },
        { TargetKind.S3, "corrupt" }, { TargetKind.S3, "truncate" }, { TargetKind.S3, "delete" },
    };

    [Theory]
    [MemberData(nameof(KindsAndDamages))]
    public async Task DamagedSegmentInTheContainer_ReplayStopsAtTheLastWholeCommitBeforeIt_NamingIt(TargetKind kind, string damage)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);
        await UploadAsync();
        var second = segments[1];
        await DamageAsync(OffsiteHistory.SegmentBlob(second.Generation, second.Sequence), damage);

        WipeVolume();
        var result = await RestoreOffsiteAsync(null);

        var (count, prefix, integrity) = ReadBack();
        Assert.True(prefix);
        Assert.Equal("ok", integrity);
        Assert.Contains(second.Filename, result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.InRange(count, 15, damage == "delete" ? 15 : 24);
        Assert.Contains(H.Logs.GetSnapshot(), r => r.Id.Name == "ReplayStopped" && r.Message.Contains(second.Filename, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Drill_RestoresTheNewestPointInTheContainer_AndFailsOnADamagedSegment(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);
        await UploadAsync();

        var passed = await H.Get<RestoreDrill>().RunAsync(H.Locate(), cancellationToken: Token);

        Assert.True(passed!.Ok, passed.Problem);
        Assert.Equal(3, passed.Segments);
        Assert.Equal(segments[^1].LastCommitAt, passed.RestoredTo);
        Assert.Equal(3, H.Get<HealthReporter>().Check(H.Locate()).Backups.Offsite!.Drill!.Segments);

        await DamageAsync(OffsiteHistory.SegmentBlob(segments[2].Generation, 3), "corrupt");

        var failed = await H.Get<RestoreDrill>().RunAsync(H.Locate(), cancellationToken: Token);

        Assert.False(failed!.Ok);
        Assert.Contains(segments[2].Filename, failed.Problem, StringComparison.Ordinal);
    }
}
