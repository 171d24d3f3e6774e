using Azure.Storage.Blobs;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>Off-volume copies against a real store on loopback, each test for both kinds of target: Azure (Azurite) and S3 (s3rver).</summary>
public sealed class OffsiteTests : IDisposable
{
    private const string Container = OffsiteServer.Name;
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private OffsiteServer Start(TargetKind kind)
    {
        var server = OffsiteServer.Start(kind);
        _owned.Add(server);
        return server;
    }

    private TestHarness Harness(OffsiteServer server, Dictionary<string, string?>? extra = null, bool unreachable = false)
    {
        var settings = unreachable ? server.UnreachableSettings() : server.Settings();
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var harness = new TestHarness(settings, configureServices: OffsiteServer.FastRetries);
        _owned.Add(harness);
        return harness;
    }

    private static Task<OffsiteSyncResult> SyncAsync(TestHarness h, IProgress<OperationProgress>? progress = null) =>
        h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), progress, Token);

    private static void WipeVolume(TestHarness h) => Directory.Delete(Path.GetDirectoryName(h.DatabasePath)!, recursive: true);

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
    public async Task Startup_VolumeWiped_RestoresTheNewestBackupFromTheContainer(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        await RunStartupAsync(h);
        h.AddNotes(1234, "kept");
        await h.BackupAsync();
        await SyncAsync(h);
        WipeVolume(h);

        var result = await RunStartupAsync(h);

        Assert.True(result.Succeeded, result.Failure);
        Assert.Equal(Container, result.Recovery!.Restore!.OffsiteContainer);
        Assert.Equal("1234", Sqlite3.Query(h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Equal("ok", Sqlite3.Query(h.DatabasePath, "PRAGMA integrity_check;"));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "RestorePerformed" && r.Message.Contains(Container, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Startup_LocalBackupsPresent_PrefersThemOverTheContainer(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(10);
        await h.BackupAsync();
        await SyncAsync(h);
        h.AddNotes(5);
        await h.BackupAsync(); // newer, only on the volume
        File.Delete(h.DatabasePath);
        File.Delete(h.DatabasePath + "-wal");
        File.Delete(h.DatabasePath + "-shm");

        var result = await RunStartupAsync(h);

        Assert.Null(result.Recovery!.Restore!.OffsiteContainer);
        Assert.Equal("15", Sqlite3.Query(h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Startup_ObjectContentAltered_RejectedByChecksum_AndTheNextOlderIsRestored(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        h.AddNotes(100, "old");
        var older = await h.BackupAsync();
        await SyncAsync(h);
        h.AddNotes(100, "new");
        var newer = await h.BackupAsync();
        await SyncAsync(h);

        // Same length, one byte changed, committed in place of the real content.
        var bytes = await server.ReadAsync(newer.Filename, Token);
        bytes[bytes.Length / 2] ^= 0xFF;
        await server.OverwriteAsync(newer.Filename, bytes, Token);
        WipeVolume(h);

        var result = await RunStartupAsync(h);

        Assert.True(result.Succeeded, result.Failure);
        var restored = result.Recovery!.Restore!;
        Assert.Equal(older.Filename, restored.Backup.Filename);
        var skipped = Assert.Single(restored.Skipped);
        Assert.Equal(newer.Filename, skipped.Name);
        Assert.Contains("SHA-256", skipped.Problem, StringComparison.Ordinal);
        Assert.Equal("100", Sqlite3.Query(h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "OffsiteVerificationFailed" && r.Level == LogLevel.Warning);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Startup_VolumeWipedAndContainerUnreachable_FailsInsteadOfCreatingAnEmptyDatabase(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server, unreachable: true);

        var result = await RunStartupAsync(h);

        Assert.False(result.Succeeded);
        Assert.Equal("recover", result.FailedStep);
        Assert.Contains("cannot be read to look for a backup", result.Failure, StringComparison.Ordinal);
        Assert.False(File.Exists(h.DatabasePath));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Startup_EmptyVolumeAndEmptyContainer_IsAFirstStart(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);

        var result = await RunStartupAsync(h);

        Assert.True(result.Succeeded, result.Failure);
        Assert.True(result.Migrations!.Created);
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

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task CompressedBackups_RoundTripThroughTheContainer(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server, new() { ["Persistence:Compression"] = "brotli" });
        await RunStartupAsync(h);
        h.AddNotes(3000, "compressed");
        var manifest = await h.BackupAsync();
        Assert.EndsWith(".br", manifest.Filename, StringComparison.Ordinal);
        await SyncAsync(h);
        WipeVolume(h);

        var result = await RunStartupAsync(h);

        Assert.Equal(manifest.Filename, result.Recovery!.Restore!.Backup.Filename);
        Assert.Equal("3000", Sqlite3.Query(h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Drill_VerifiesTheNewestCopy_AndAFailedDrillMakesHealthDegraded(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        await RunStartupAsync(h);
        h.AddNotes(100);
        var manifest = await h.BackupAsync();
        await SyncAsync(h);

        var passed = await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token);

        Assert.True(passed!.Ok, passed.Problem);
        Assert.Equal(manifest.Filename, passed.Backup);
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "emergence-drill-*"), d => File.Exists(Path.Combine(d, manifest.Filename)));
        var report = h.Get<HealthReporter>().Check(h.Locate());
        Assert.True(report.Backups.Offsite!.Drill!.Ok);
        Assert.Equal(HealthStatus.Healthy, report.Status);

        var bytes = await server.ReadAsync(manifest.Filename, Token);
        bytes[^100] ^= 0x01;
        await server.OverwriteAsync(manifest.Filename, bytes, Token);

        var failed = await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token);

        Assert.False(failed!.Ok);
        Assert.Contains("SHA-256", failed.Problem, StringComparison.Ordinal);
        var degraded = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains(degraded.Problems, p => p.StartsWith("The last restore drill", StringComparison.Ordinal));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "RestoreDrillFailed" && r.Level == LogLevel.Error);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Health_NothingCopiedYet_SaysSo(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        await RunStartupAsync(h);

        var report = h.Get<HealthReporter>().Check(h.Locate());

        Assert.Equal(Container, report.Backups.Offsite!.Container);
        Assert.Contains(report.Problems, p => p.StartsWith(kind == TargetKind.Azure ? "No backup has been copied to the off-volume container" : "No backup has been copied to the off-volume bucket", StringComparison.Ordinal));
    }

    private static async Task<StartupResult> RunStartupAsync(TestHarness h)
    {
        var result = await h.Get<StartupSequence>().RunAsync(Token);
        result.Lock?.Dispose();
        return result;
    }
}
