using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>A history file says where it is: a file on the volume, or an object listed in a container until it is downloaded.</summary>
public sealed class HistoryFileTests
{
    [Fact]
    public void OnVolume_IsAFile_WithNoObjectName_AndCannotBeDownloadedAgain()
    {
        var file = HistoryFile.OnVolume(3, "/data/backups/replication/g1/0000000003.frames", null);

        Assert.False(file.InContainer);
        Assert.Equal("/data/backups/replication/g1/0000000003.frames", file.Path);
        Assert.Throws<InvalidOperationException>(() => file.ObjectName);
        Assert.Throws<InvalidOperationException>(() => file.DownloadedTo("/tmp/0000000003.frames"));
    }

    [Fact]
    public void InContainer_NamesItsObject_AndOnceDownloaded_IsTheFileWithTheSameNumbers()
    {
        var listed = HistoryFile.InContainerAs(5, "replication/g1/L1-0000000005-0000000009.pages", null) with { Level = 1, Last = 9 };

        var downloaded = listed.DownloadedTo("/tmp/restore/L1-0000000005-0000000009.pages");

        Assert.True(listed.InContainer);
        Assert.Equal("replication/g1/L1-0000000005-0000000009.pages", listed.ObjectName);
        Assert.False(downloaded.InContainer);
        Assert.Equal("/tmp/restore/L1-0000000005-0000000009.pages", downloaded.Path);
        Assert.Equal((5L, 1, 9L), (downloaded.Sequence, downloaded.Level, downloaded.Last));
        Assert.Throws<InvalidOperationException>(() => downloaded.ObjectName);
    }
}
