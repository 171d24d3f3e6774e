using Emergence.Persistence.Tests.Support;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Tests.Volumes;

public sealed class VolumeInspectorTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static string MountInfoWithVolumeAt(string mountPoint, string filesystem = "ext4") =>
        $"1 0 8:1 / / rw - overlay overlay rw\n2 1 8:2 / {mountPoint} rw - {filesystem} /dev/sdb rw\n";

    [Fact]
    public void Inspect_DirectoryOnAVolume_IsMountedWritableAndMeasured()
    {
        var directory = Path.Combine(_h.Root, "data");
        _h.Probe.MountInfo = MountInfoWithVolumeAt(directory);

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: true);

        Assert.True(status.Mounted);
        Assert.True(status.Writable);
        Assert.Equal("ext4", status.Filesystem);
        Assert.Equal(directory, status.MountPoint);
        Assert.True(status.SizeAvailable > 0);
        Assert.True(status.SizeTotal >= status.SizeAvailable);
        Assert.False(status.DatabaseExists);
        Assert.Equal(TestHarness.Start, status.LastCheck);
        Assert.Empty(Directory.GetFiles(directory));
    }

    [Fact]
    public void Inspect_DirectoryOnTheContainerLayer_IsNotMounted()
    {
        var directory = Path.Combine(_h.Root, "data");
        _h.Probe.MountInfo = "1 0 8:1 / / rw - overlay overlay rw\n";

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: true);

        Assert.False(status.Mounted);
        Assert.Equal("overlay", status.Filesystem);
        Assert.True(status.Writable);
    }

    [Fact]
    public void Inspect_RailwayAnnouncedAnotherPath_DoesNotMatchTheExpectedMount()
    {
        var directory = Path.Combine(_h.Root, "data");
        _h.Probe.MountInfo = MountInfoWithVolumeAt(directory);
        _h.Probe.Environment["RAILWAY_VOLUME_MOUNT_PATH"] = "/app/storage";

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: true);

        Assert.Equal("/app/storage", status.ExpectedMountPath);
        Assert.False(status.MatchesExpectedMount);
    }

    [Fact]
    public void Inspect_RailwayAnnouncedThisPathWithTrailingSlash_Matches()
    {
        var directory = Path.Combine(_h.Root, "data");
        _h.Probe.MountInfo = MountInfoWithVolumeAt(directory);
        _h.Probe.Environment["RAILWAY_VOLUME_MOUNT_PATH"] = directory + "/";

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: true);

        Assert.True(status.MatchesExpectedMount);
    }

    [Fact]
    public void Inspect_MissingDirectoryWithoutCreate_ReportsItMissingAndCreatesNothing()
    {
        var directory = Path.Combine(_h.Root, "absent");

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: false);

        Assert.False(status.Writable);
        Assert.Equal("the directory does not exist", status.Error);
        Assert.False(Directory.Exists(directory));
        Assert.NotNull(status.Diagnostics);
    }

    [Fact]
    public void Inspect_PathBlockedByAFile_CannotCreateAndSaysWhy()
    {
        var blocker = Path.Combine(_h.Root, "blocker");
        File.WriteAllText(blocker, "a file where a directory should be");
        var directory = Path.Combine(blocker, "data");

        var status = _h.Get<VolumeInspector>().Inspect(directory, Path.Combine(directory, "database.sqlite"), create: true);

        Assert.False(status.Writable);
        Assert.StartsWith("cannot create the directory", status.Error, StringComparison.Ordinal);
    }
}
