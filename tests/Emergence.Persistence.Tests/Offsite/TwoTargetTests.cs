using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// Azure (Azurite) and S3 (s3rver) configured at once: every upload goes to each, health reports each, and a restore
/// takes what one lacks or has damaged from the other, naming the target it used.
/// </summary>
public sealed class TwoTargetTests : IDisposable
{
    private readonly OffsiteServer _azure = OffsiteServer.Start(TargetKind.Azure);
    private readonly OffsiteServer _s3 = OffsiteServer.Start(TargetKind.S3);
    private readonly RowsDatabase _db;

    public TwoTargetTests()
    {
        var settings = _azure.Settings();
        foreach (var (key, value) in _s3.Settings())
        {
            settings[key] = value;
        }

        _db = new RowsDatabase(settings, OffsiteServer.FastRetries);
    }

    public void Dispose()
    {
        _db.Dispose();
        _azure.Dispose();
        _s3.Dispose();
    }

    private TestHarness H => _db.H;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private void Commit(int count, int batch) => _db.Commit(count, batch);

    private Task<List<SegmentManifest>> ReplicateAsync(int batches) => _db.ReplicateAsync(batches);

    private void WipeVolume() => _db.WipeVolume();

    private (int Count, bool Prefix, string Integrity) ReadBack() => _db.ReadBack();

    private Task<RestoreResult> RestoreAsync(string? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreOffsiteToTimeAsync(location, held, H.Get<OffsiteConnector>().For(location, target)!, null, force: true, "test", cancellationToken: Token));

    [Fact]
    public async Task Upload_GoesToEachTarget_HealthReportsEach_AndNamesTheOneThatFails()
    {
        Commit(5, 0);
        var first = await H.BackupAsync();

        var synced = await H.Get<BackupUploader>().SyncAsync(H.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);

        Assert.True(synced.Succeeded, synced.Error);
        Assert.True(await _azure.ExistsAsync(first.Filename + ".json", Token));
        Assert.True(await _s3.ExistsAsync(first.Filename + ".json", Token));
        var healthy = H.Get<HealthReporter>().Check(H.Locate());
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(["azure", "s3"], healthy.Backups.Offsite!.Targets.Select(t => t.Kind));
        Assert.All(healthy.Backups.Offsite.Targets, t => Assert.Equal(first.Filename, t.LastUpload));

        _s3.Kill();
        H.Time.Advance(TimeSpan.FromSeconds(2));
        Commit(5, 1);
        var second = await H.BackupAsync();
        var failed = await H.Get<BackupUploader>().SyncAsync(H.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);

        Assert.False(failed.Succeeded);
        Assert.True(await _azure.ExistsAsync(second.Filename + ".json", Token));
        var degraded = H.Get<HealthReporter>().Check(H.Locate());
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        var azure = degraded.Backups.Offsite!.Targets.Single(t => t.Kind == "azure");
        var s3 = degraded.Backups.Offsite.Targets.Single(t => t.Kind == "s3");
        Assert.Null(azure.LastError);
        Assert.Equal(second.Filename, azure.LastUpload);
        Assert.NotNull(s3.LastError);
        Assert.Equal(first.Filename, s3.LastUpload);
        Assert.Contains(degraded.Problems, p => p.Contains($"bucket {OffsiteServer.Name} failed", StringComparison.Ordinal));
        Assert.StartsWith("s3 ", degraded.Backups.Offsite.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_OneTargetDamaged_TheOtherStoppedMidRun_TakesEachObjectFromTheTargetThatHasItWhole_AndNamesThem()
    {
        Commit(5, 0);
        var first = await ReplicateAsync(2);
        Assert.True(await H.Get<HistoryUploader>().SyncAsync(H.Locate(), Token));

        // The S3 store stops during the next run: Azure gets segments 3 and 4, S3 never does.
        _s3.Kill();
        var more = await ReplicateAsync(2);
        await Assert.ThrowsAsync<OffsiteUnavailableException>(() => H.Get<HistoryUploader>().SyncAsync(H.Locate(), Token));
        _s3.Resume();
        var generation = first[0].Generation;
        Assert.True(await _azure.ExistsAsync(OffsiteHistory.SegmentBlob(generation, 4), Token));
        Assert.False(await _s3.ExistsAsync(OffsiteHistory.SegmentBlob(generation, 3), Token));

        // Azure loses a segment in the middle and its newest (only) backup is damaged.
        var snapshot = new ReplicationStore(H.BackupDirectory).Generations(H.DatabasePath).Single().BaseBackup;
        var bytes = await _azure.ReadAsync(snapshot, Token);
        bytes[bytes.Length / 2] ^= 0xFF;
        await _azure.OverwriteAsync(snapshot, bytes, Token);
        await _azure.Objects.DeleteAsync(OffsiteHistory.SegmentBlob(generation, 2), Token);
        WipeVolume();

        var restored = await RestoreAsync(null);

        Assert.Equal((45, true, "ok"), ReadBack());
        Assert.Equal(more[^1].LastCommitAt, restored.RestoredTo);
        Assert.Null(restored.Replay!.Stopped);
        Assert.Contains($"s3:{OffsiteServer.Name}", restored.OffsiteContainer, StringComparison.Ordinal);
        Assert.Contains($"azure:{OffsiteServer.Name}", restored.OffsiteContainer, StringComparison.Ordinal);

        // Either target alone gives less: S3 stops where its run did, Azure has no backup that verifies.
        var fromS3 = await RestoreAsync("s3");
        Assert.Equal((25, true, "ok"), ReadBack());
        Assert.Equal(first[^1].LastCommitAt, fromS3.RestoredTo);
        Assert.Equal(OffsiteServer.Name, fromS3.OffsiteContainer);
        await Assert.ThrowsAsync<RestoreFailedException>(() => RestoreAsync("azure"));
    }

    [Fact]
    public void For_TargetNamingNothingConfigured_SaysWhichTargetsThereAre()
    {
        var error = Assert.Throws<ArgumentException>(() => H.Get<OffsiteConnector>().For(H.Locate(), "gcs"));

        Assert.Contains("azure (emergence-backups), s3 (emergence-backups)", error.Message, StringComparison.Ordinal);
    }
}
