using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>Off-volume copies against a real Azurite blob service on loopback.</summary>
public sealed class OffsiteTests : IDisposable
{
    private const string Container = "emergence-backups";
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Azurite StartAzurite()
    {
        var azurite = Azurite.Start();
        _owned.Add(azurite);
        return azurite;
    }

    private TestHarness Harness(Azurite azurite, Dictionary<string, string?>? extra = null, string? connectionString = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Persistence:Offsite:ConnectionString"] = connectionString ?? azurite.ConnectionString,
            ["Persistence:Offsite:Container"] = Container,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        // Fewer, quicker retries than production's defaults, so a dead service fails a test in seconds.
        var harness = new TestHarness(settings, configureServices: services => services.Configure<BlobClientOptions>(OffsiteConnector.ClientName, options =>
        {
            options.Retry.MaxRetries = 1;
            options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        }));
        _owned.Add(harness);
        return harness;
    }

    private static BlobContainerClient ContainerOf(Azurite azurite) => new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(Container);

    private static Task<OffsiteSyncResult> SyncAsync(TestHarness h, IProgress<OperationProgress>? progress = null) =>
        h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), progress, Token);

    private static void WipeVolume(TestHarness h) => Directory.Delete(Path.GetDirectoryName(h.DatabasePath)!, recursive: true);

    private static async Task<string> BlobSha256(Azurite azurite, string name)
    {
        var content = await ContainerOf(azurite).GetBlobClient(name).DownloadContentAsync(Token);
        return Convert.ToHexStringLower(SHA256.HashData(content.Value.Content.ToArray()));
    }

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

    [Fact]
    public async Task Sync_UploadsTheBackupAndThenItsManifest_WithTheContentHashOfTheManifest()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
        h.AddNotes(500);
        var manifest = await h.BackupAsync();

        var result = await SyncAsync(h);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal([manifest.Filename], result.Uploaded.Select(u => u.Name));
        Assert.Equal(1, result.Count);
        Assert.Equal(manifest.Checksum, await BlobSha256(azurite, manifest.Filename));
        var properties = await ContainerOf(azurite).GetBlobClient(manifest.Filename).GetPropertiesAsync(cancellationToken: Token);
        Assert.Equal(manifest.Checksum, properties.Value.Metadata[OffsiteStore.ChecksumMetadataKey]);
        var manifestBlob = await ContainerOf(azurite).GetBlobClient(manifest.Filename + ".json").DownloadContentAsync(Token);
        Assert.Equal(File.ReadAllText(Path.Combine(h.BackupDirectory, manifest.Filename + ".json")), manifestBlob.Value.Content.ToString());
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "OffsiteUploaded" && r.Level == LogLevel.Information);

        var again = await SyncAsync(h);
        Assert.Empty(again.Uploaded);
        Assert.Equal(1, again.Count);
    }

    [Fact]
    public async Task Sync_AfterMissedRuns_UploadsEveryNewerLocalBackupOldestFirst()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
        h.AddNotes(10);
        await h.BackupAsync();
        await SyncAsync(h);
        var second = await h.BackupAsync();
        var third = await h.BackupAsync();

        var result = await SyncAsync(h);

        Assert.Equal([second.Filename, third.Filename], result.Uploaded.Select(u => u.Name));
        Assert.Equal(3, result.Count);
    }

    [Fact]
    public async Task Sync_KeepsItsOwnCount_AndRemovesIncompleteUploads()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite, new() { ["Persistence:Offsite:KeepBackups"] = "2", ["Persistence:KeepBackups"] = "5" });
        h.AddNotes(10);
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            names.Add((await h.BackupAsync()).Filename);
            await SyncAsync(h);
        }

        // An upload cut off before its manifest: a data blob alone.
        var orphan = "database_backup_20250101_000000.sqlite";
        await ContainerOf(azurite).UploadBlobAsync(orphan, BinaryData.FromString("partial"), Token);
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

    [Fact]
    public async Task Startup_VolumeWiped_RestoresTheNewestBackupFromTheContainer()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
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

    [Fact]
    public async Task Startup_LocalBackupsPresent_PrefersThemOverTheContainer()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
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

    [Fact]
    public async Task Startup_BlobContentAltered_RejectedByChecksum_AndTheNextOlderIsRestored()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
        h.AddNotes(100, "old");
        var older = await h.BackupAsync();
        await SyncAsync(h);
        h.AddNotes(100, "new");
        var newer = await h.BackupAsync();
        await SyncAsync(h);

        // Same length, one byte changed, committed in place of the real content.
        var blob = ContainerOf(azurite).GetBlobClient(newer.Filename);
        var bytes = (await blob.DownloadContentAsync(Token)).Value.Content.ToArray();
        bytes[bytes.Length / 2] ^= 0xFF;
        await blob.UploadAsync(new BinaryData(bytes), overwrite: true, Token);
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

    [Fact]
    public async Task Startup_VolumeWipedAndContainerUnreachable_FailsInsteadOfCreatingAnEmptyDatabase()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite, connectionString: azurite.ConnectionString.Replace($":{azurite.Port}/", $":{Azurite.FreePort()}/", StringComparison.Ordinal));

        var result = await RunStartupAsync(h);

        Assert.False(result.Succeeded);
        Assert.Equal("recover", result.FailedStep);
        Assert.Contains("cannot be read to look for a backup", result.Failure, StringComparison.Ordinal);
        Assert.False(File.Exists(h.DatabasePath));
    }

    [Fact]
    public async Task Startup_EmptyVolumeAndEmptyContainer_IsAFirstStart()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);

        var result = await RunStartupAsync(h);

        Assert.True(result.Succeeded, result.Failure);
        Assert.True(result.Migrations!.Created);
    }

    [Fact]
    public async Task Sync_AzuriteKilledMidUpload_LocalBackupIntact_ErrorRecorded_NextRunSucceeds()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
        h.AddNotes(60_000, new string('x', 600)); // about 40 MiB: several 8 MiB blocks
        var manifest = await h.BackupAsync();
        Assert.True(manifest.Size > 4L * OffsiteStore.BlockSize, $"the backup is only {manifest.Size} bytes");
        var killed = 0;
        var progress = new InlineProgress(p =>
        {
            if (p.Phase == "upload" && p.Done > 0 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                azurite.Kill();
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

        azurite.Resume();
        var retried = await SyncAsync(h);

        Assert.True(retried.Succeeded, retried.Error);
        Assert.Equal([manifest.Filename], retried.Uploaded.Select(u => u.Name));
        Assert.Equal(manifest.Checksum, await BlobSha256(azurite, manifest.Filename));
        var healthy = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Null(healthy.Backups.Offsite!.LastError);
        Assert.Equal(manifest.Filename, healthy.Backups.Offsite.LastUpload);
    }

    [Fact]
    public async Task Sync_CancelledMidUpload_CommitsNothing_AndTheNextRunUploads()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
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

        Assert.False(await ContainerOf(azurite).GetBlobClient(manifest.Filename).ExistsAsync(Token));
        var retried = await SyncAsync(h);
        Assert.Equal([manifest.Filename], retried.Uploaded.Select(u => u.Name));
        Assert.Equal(manifest.Checksum, await BlobSha256(azurite, manifest.Filename));
    }

    [Fact]
    public async Task CompressedBackups_RoundTripThroughTheContainer()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite, new() { ["Persistence:Compression"] = "brotli" });
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

    [Fact]
    public async Task Drill_VerifiesTheNewestCopy_AndAFailedDrillMakesHealthDegraded()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
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

        var blob = ContainerOf(azurite).GetBlobClient(manifest.Filename);
        var bytes = (await blob.DownloadContentAsync(Token)).Value.Content.ToArray();
        bytes[^100] ^= 0x01;
        await blob.UploadAsync(new BinaryData(bytes), overwrite: true, Token);

        var failed = await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token);

        Assert.False(failed!.Ok);
        Assert.Contains("SHA-256", failed.Problem, StringComparison.Ordinal);
        var degraded = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains(degraded.Problems, p => p.StartsWith("The last restore drill", StringComparison.Ordinal));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "RestoreDrillFailed" && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Health_NothingCopiedYet_SaysSo()
    {
        var azurite = StartAzurite();
        var h = Harness(azurite);
        await RunStartupAsync(h);

        var report = h.Get<HealthReporter>().Check(h.Locate());

        Assert.Equal(Container, report.Backups.Offsite!.Container);
        Assert.Contains(report.Problems, p => p.StartsWith("No backup has been copied to the off-volume container", StringComparison.Ordinal));
    }

    private static async Task<StartupResult> RunStartupAsync(TestHarness h)
    {
        var result = await h.Get<StartupSequence>().RunAsync(Token);
        result.Lock?.Dispose();
        return result;
    }
}
