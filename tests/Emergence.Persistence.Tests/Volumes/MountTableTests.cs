using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Tests.Volumes;

public sealed class MountTableTests
{
    private const string ContainerMountInfo = """
        600 500 0:50 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c
        601 600 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        602 600 259:3 /volumes/vol_abc /app/data rw,relatime - ext4 /dev/nvme0n1p3 rw
        603 600 0:52 / /app/data/cache rw,relatime - tmpfs tmpfs rw,size=1024k
        604 600 259:4 / /mnt/with\040space ro,relatime - ext4 /dev/sdb rw
        """;

    [Theory]
    [InlineData("/app/data", "/app/data", "ext4")]
    [InlineData("/app/data/backups", "/app/data", "ext4")]
    [InlineData("/app/data/cache/x", "/app/data/cache", "tmpfs")]
    [InlineData("/app/database", "/", "overlay")]
    [InlineData("/app/data2", "/", "overlay")]
    [InlineData("/mnt/with space/db", "/mnt/with space", "ext4")]
    public void FindMountFor_Table_ChoosesTheLongestMountPointPrefix(string path, string mountPoint, string filesystem)
    {
        var mount = MountTable.Parse(ContainerMountInfo).FindMountFor(path);

        Assert.NotNull(mount);
        Assert.Equal(mountPoint, mount.MountPoint);
        Assert.Equal(filesystem, mount.FileSystem);
    }

    [Fact]
    public void Parse_OverlayRoot_IsTheContainerLayer()
    {
        var table = MountTable.Parse(ContainerMountInfo);

        Assert.True(table.FindMountFor("/home/site/wwwroot")!.IsContainerLayer);
        Assert.False(table.FindMountFor("/app/data")!.IsContainerLayer);
    }

    [Fact]
    public void Parse_ReadOnlyMount_IsReported()
    {
        var table = MountTable.Parse(ContainerMountInfo);

        Assert.True(table.FindMountFor("/mnt/with space")!.ReadOnly);
        Assert.False(table.FindMountFor("/app/data")!.ReadOnly);
    }

    [Fact]
    public void Parse_GarbageAndEmpty_YieldNoMounts()
    {
        Assert.Empty(MountTable.Parse(null).Entries);
        Assert.Empty(MountTable.Parse("not a mountinfo line\n\n").Entries);
        Assert.Null(MountTable.Parse("").FindMountFor("/app/data"));
    }
}
