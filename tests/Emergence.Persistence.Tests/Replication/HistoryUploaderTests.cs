using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The uploader's own duties: retention in the container, a failure recorded for health and caught up later, and
/// the segments going up while another run holds the upload lock.
/// </summary>
public sealed class HistoryUploaderTests : OffsiteReplicationTest
{
    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Retention_KeepsEverySegmentAfterTheContainersBackupsPoints_AndNoneBefore(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var old = await ReplicateAsync(3);
        await UploadAsync();
        H.Time.Advance(TimeSpan.FromSeconds(5));
        await H.BackupAsync(); // the container keeps one backup: the next sync rotates the snapshot out
        var newer = await ReplicateAsync(2);
        var sync = await H.Get<BackupUploader>().SyncAsync(H.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);
        Assert.Null(sync.Error);

        await UploadAsync();

        var names = await Server.KeysAsync(OffsiteHistory.Prefix, Token);

        var generation = old[0].Generation;
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 1), names);
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 2), names);
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 3), names); // the container's backup holds it: its point is after it
        Assert.All(newer, s => Assert.Contains(OffsiteHistory.SegmentBlob(s.Generation, s.Sequence), names));
        Assert.Contains(H.Logs.GetSnapshot(), r => r.Id.Name == "SegmentsPruned" && r.Message.Contains(Container, StringComparison.Ordinal));

        WipeVolume();
        var restored = await RestoreOffsiteAsync(null);
        Assert.Equal(2, restored.Replay!.Segments);
        Assert.Equal((55, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_ContainerUnreachable_RecordsTheErrorForHealth_AndALaterPassCatchesUp(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        await ReplicateAsync(2);
        Server.Kill();

        var uploader = H.Get<HistoryUploader>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var caughtUp = new TaskCompletionSource();
        uploader.CaughtUp += _ => caughtUp.TrySetResult();
        var run = uploader.RunAsync(H.Locate(), cancel.Token);
        await WaitUntilAsync(() => H.Get<HealthReporter>().Check(H.Locate()).Backups.Replication?.OffsiteLastError is not null);

        var report = H.Get<HealthReporter>().Check(H.Locate());
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.StartsWith("copying WAL segments off the volume failed", StringComparison.Ordinal));
        Assert.False(caughtUp.Task.IsCompleted);
        await cancel.CancelAsync();
        await run;
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task WhileAnotherRunHoldsTheUploadLock_SegmentsStillGoUp_ButTheContainerIsCaughtUpOnlyWithTheSnapshot(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(2);
        var uploadLock = Emergence.Persistence.Volumes.VolumeLock.TryAcquire(Path.Combine(H.BackupDirectory, BackupUploader.LockFileName), H.Time, out _)!;
        var uploader = H.Get<HistoryUploader>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var run = uploader.RunAsync(H.Locate(), cancel.Token);
        var last = OffsiteHistory.SegmentBlob(segments[^1].Generation, segments[^1].Sequence);
        try
        {
            await WaitUntilAsync(() => Server.ExistsAsync(last, Token).GetAwaiter().GetResult());

            // The segments are in the container, the snapshot is not: nothing there is restorable yet, and waiting
            // for the other upload run is not a failure.
            var replication = H.Get<HealthReporter>().Check(H.Locate()).Backups.Replication;
            Assert.Null(replication?.OffsiteLagSeconds);
            Assert.Null(replication?.OffsiteLastError);
        }
        finally
        {
            uploadLock.Dispose();
        }

        await WaitUntilAsync(() => H.Get<HealthReporter>().Check(H.Locate()).Backups.Replication?.OffsiteLagSeconds is not null);
        var generation = new ReplicationStore(H.BackupDirectory).Generations(H.DatabasePath).Single();
        Assert.True(await Server.ExistsAsync(generation.BaseBackup + BackupNaming.ManifestSuffix, Token));
        await cancel.CancelAsync();
        await run;
    }
}
