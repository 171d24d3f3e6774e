using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests;

/// <summary>Operator commands work on the configured volume or fail with its cause; only the app falls back. Root only.</summary>
public sealed class ReadOnlyVolumeCliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ReadOnlyVolume_StatusListAndBackup_DescribeAndUseTheConfiguredVolume()
    {
        Privileges.RequireRoot("remount a volume read-only");
        var data = Path.GetDirectoryName(_cli.DatabasePath)!;
        using var volume = new TmpfsMount(data, "32m");
        Assert.Equal(0, (await _cli.RunAsync("startup")).Exit);
        _cli.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, (await _cli.RunAsync("backup")).Exit);
        volume.Remount("ro");

        var (statusExit, statusOut, _) = await _cli.RunAsync("status", "--json");
        var (listExit, listOut, _) = await _cli.RunAsync("list");
        var (backupExit, _, backupErr) = await _cli.RunAsync("backup");

        var report = JsonDocument.Parse(statusOut).RootElement;
        Assert.Equal(2, statusExit);
        Assert.Equal(data, report.GetProperty("volume").GetProperty("path").GetString());
        Assert.True(report.GetProperty("volume").GetProperty("read_only").GetBoolean());
        Assert.False(report.GetProperty("volume").GetProperty("writable").GetBoolean());
        Assert.False(report.GetProperty("database").GetProperty("fallback").GetBoolean());
        Assert.Equal(_cli.DatabasePath, report.GetProperty("database").GetProperty("path").GetString());
        Assert.Equal(0, listExit);
        Assert.Equal(2, listOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(1, backupExit);
        Assert.Contains(data, backupErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.Settings["Persistence__FallbackDirectory"]));
    }
}
