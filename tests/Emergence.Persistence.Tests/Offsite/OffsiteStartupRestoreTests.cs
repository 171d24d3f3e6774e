using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// Startup on a wiped volume restores from the target: the newest backup (compressed or not), local backups
/// preferred, an altered object refused, an unreachable target failing the start, an empty one a first start.
/// </summary>
public sealed class OffsiteStartupRestoreTests : OffsiteTest
{
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
}
