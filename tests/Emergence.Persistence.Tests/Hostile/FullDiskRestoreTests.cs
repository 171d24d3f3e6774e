using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>A restore onto a full disk says the disk is full, not that every backup failed verification. Root only.</summary>
public sealed class FullDiskRestoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("emergence-fullrestore-").FullName;

    public void Dispose()
    {
        Shell.Run("umount", "-l", Path.Combine(_root, "data"));
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Restore_NoRoomForTheStagingCopy_FailsSayingTheDiskIsFull()
    {
        Privileges.RequireRoot("mount a small tmpfs that fills");
        using var volume = new TmpfsMount(Path.Combine(_root, "data"), "64m");
        using var h = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = Path.Combine(_root, "data", "database.sqlite") }, root: _root);
        h.AddNotes(8000, new string('x', 1000));
        await h.BackupAsync();
        await h.BackupAsync();
        File.WriteAllBytes(Path.Combine(volume.Path, "ballast"), new byte[new DriveInfo(volume.Path).AvailableFreeSpace - (1 << 20)]);

        var failure = Assert.Throws<RestoreFailedException>(() => h.WithVolumeLock((location, held) =>
            h.Get<RestoreService>().Restore(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken)));

        Assert.StartsWith("The disk is full", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("failed verification", failure.Message, StringComparison.Ordinal);
        Assert.Equal("8000", Sqlite3.Query(h.DatabasePath, "SELECT count(*) FROM notes;"));
    }
}
