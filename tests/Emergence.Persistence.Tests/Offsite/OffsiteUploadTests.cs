using Azure.Storage.Blobs;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// Upload runs: what goes to the target and in which order, its count kept, and a run cut off by a killed store or
/// a cancellation committing nothing; each try of a request bounded.
/// </summary>
public sealed class OffsiteUploadTests : OffsiteTest
{
    [Fact]
    public void OffsiteClient_EachTryGivesUpAfterTheRequestTimeout_NotTheSdksHundredSeconds()
    {
        using var harness = new TestHarness(new Dictionary<string, string?>
        {
            ["Persistence:Offsite:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Persistence:Offsite:Container"] = Container,
        });

        var options = harness.Get<Microsoft.Extensions.Options.IOptionsMonitor<BlobClientOptions>>().Get(OffsiteConnector.ClientName);

        Assert.Equal(Microsoft.Extensions.DependencyInjection.PersistenceServiceCollectionExtensions.OffsiteRequestTimeout, options.Retry.NetworkTimeout);
        Assert.True(options.Retry.NetworkTimeout <= TimeSpan.FromSeconds(30));
        Assert.Equal(3, options.Retry.MaxRetries);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Sync_UploadsTheBackupAndThenItsManifest_WithTheContentHashOfTheManifest(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(500);
        var manifest = await h.BackupAsync();

        var result = await SyncAsync(h);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal([manifest.Filename], result.Uploaded.Select(u => u.Name));
        Assert.Equal(1, result.Count);
        Assert.Equal(manifest.Checksum, await server.Sha256Async(manifest.Filename, Token));
        var properties = await server.Objects.GetAsync(manifest.Filename, Token);
        Assert.Equal(manifest.Checksum, properties!.Metadata[OffsiteStore.ChecksumMetadataKey]);
        var manifestObject = await server.ReadAsync(manifest.Filename + ".json", Token);
        Assert.Equal(File.ReadAllBytes(Path.Combine(h.BackupDirectory, manifest.Filename + ".json")), manifestObject);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "OffsiteUploaded" && r.Level == LogLevel.Information);

        var again = await SyncAsync(h);
        Assert.Empty(again.Uploaded);
        Assert.Equal(1, again.Count);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Sync_AfterMissedRuns_UploadsEveryNewerLocalBackupOldestFirst(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(10);
        await h.BackupAsync();
        await SyncAsync(h);
        var second = await h.BackupAsync();
        var third = await h.BackupAsync();

        var result = await SyncAsync(h);

        Assert.Equal([second.Filename, third.Filename], result.Uploaded.Select(u => u.Name));
        Assert.Equal(3, result.Count);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Sync_KeepsItsOwnCount_AndRemovesIncompleteUploads(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server, new() { ["Persistence:Offsite:KeepBackups"] = "2", ["Persistence:KeepBackups"] = "5" });
        h.AddNotes(10);
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            names.Add((await h.BackupAsync()).Filename);
            await SyncAsync(h);
        }

        // An upload cut off before its manifest: a data blob alone.
        var orphan = "database_backup_20250101_000000.sqlite";
        await server.Objects.PutAsync(orphan, "partial"u8.ToArray(), new Dictionary<string, string>(), createOnly: false, Token);
        names.Add((await h.BackupAsync()).Filename);

        var result = await SyncAsync(h);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(2, result.Count);
        var listed = await h.Get<OffsiteConnector>().For(h.Locate())!.ListAsync(Token);
        Assert.Equal([names[3], names[2]], listed.Select(b => b.Name));
        Assert.All(listed, b => Assert.True(b.IsComplete));
        Assert.Contains(orphan, result.Deleted);
        Assert.Equal(4, BackupCatalog.Scan(h.BackupDirectory, h.DatabasePath, h.Time.GetUtcNow()).Verified.Count);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Sync_StoreKilledMidUpload_LocalBackupIntact_ErrorRecorded_NextRunSucceeds(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(60_000, new string('x', 600)); // about 40 MiB: several 8 MiB blocks
        var manifest = await h.BackupAsync();
        Assert.True(manifest.Size > 4L * OffsiteStore.BlockSize, $"the backup is only {manifest.Size} bytes");
        var killed = 0;
        var progress = new InlineProgress(p =>
        {
            if (p.Phase == "upload" && p.Done > 0 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                server.Kill();
            }
        });

        var failed = await SyncAsync(h, progress);

        Assert.Equal(1, killed);
        Assert.False(failed.Succeeded);
        Assert.Empty(failed.Uploaded);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "OffsiteUploadFailed" && r.Level == LogLevel.Error);
        var entry = BackupCatalog.Scan(h.BackupDirectory, h.DatabasePath, h.Time.GetUtcNow()).Verified.Single();
        Assert.True(h.Get<BackupVerifier>().Verify(entry, IntegrityCheck.Quick, cancellationToken: Token).Ok);
        var report = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.NotNull(report.Backups.Offsite!.LastError);
        Assert.Contains(report.Problems, p => p.StartsWith("Copying backups off the volume failed", StringComparison.Ordinal));

        server.Resume();
        var retried = await SyncAsync(h);

        Assert.True(retried.Succeeded, retried.Error);
        Assert.Equal([manifest.Filename], retried.Uploaded.Select(u => u.Name));
        Assert.Equal(manifest.Checksum, await server.Sha256Async(manifest.Filename, Token));
        var healthy = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Null(healthy.Backups.Offsite!.LastError);
        Assert.Equal(manifest.Filename, healthy.Backups.Offsite.LastUpload);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Sync_CancelledMidUpload_CommitsNothing_AndTheNextRunUploads(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(30_000, new string('y', 600));
        var manifest = await h.BackupAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var progress = new InlineProgress(p =>
        {
            if (p.Phase == "upload" && p.Done > 0)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), progress, cancel.Token));

        Assert.False(await server.ExistsAsync(manifest.Filename, Token));
        var retried = await SyncAsync(h);
        Assert.Equal([manifest.Filename], retried.Uploaded.Select(u => u.Name));
        Assert.Equal(manifest.Checksum, await server.Sha256Async(manifest.Filename, Token));
    }
}
