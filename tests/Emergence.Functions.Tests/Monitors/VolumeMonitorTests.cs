using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Health;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Tests.Monitors;

public sealed class VolumeMonitorTests : IDisposable
{
    private readonly AppHarness _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Check_VolumeDisappearsAndComesBack_LogsEachChangeAsAWarning()
    {
        var directory = Path.GetDirectoryName(_app.DatabasePath)!;
        _app.Probe.MountInfo = $"1 0 8:1 / / rw - overlay overlay rw\n2 1 8:2 / {directory} rw - ext4 /dev/sdb rw\n";
        var location = (await _app.StartAsync()).Location;
        var watch = _app.Get<VolumeWatch>();

        var first = watch.Check(location);
        _app.Probe.MountInfo = "1 0 8:1 / / rw - overlay overlay rw\n";
        var unmounted = watch.Check(location);
        var still = watch.Check(location);
        _app.Probe.MountInfo = $"1 0 8:1 / / rw - overlay overlay rw\n2 1 8:2 / {directory} ro - ext4 /dev/sdb rw\n";
        var readOnly = watch.Check(location);

        Assert.False(first.Changed);
        Assert.True(unmounted.Changed);
        Assert.False(still.Changed);
        Assert.True(readOnly.Changed);
        var changes = _app.Logs.GetSnapshot().Where(r => r.Id.Name == "VolumeStatusChanged").ToList();
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.Equal(LogLevel.Warning, c.Level));
        Assert.StartsWith("mounted (ext4", (string?)changes[0].GetStructuredStateValue("From"), StringComparison.Ordinal);
        Assert.StartsWith("not mounted (overlay", (string?)changes[0].GetStructuredStateValue("To"), StringComparison.Ordinal);
        Assert.Contains("read-only", (string?)changes[1].GetStructuredStateValue("To"), StringComparison.Ordinal);
    }
}
