using System.Text.Json;
using Emergence.Functions.Functions;
using Emergence.Functions.Startup;
using Emergence.Functions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Tests.Startup;

/// <summary>With a required volume missing, nothing is created on the container's layer, and the app starts by itself once it is there.</summary>
public sealed class MissingVolumeTests : IDisposable
{
    private const string ContainerLayerOnly = "1 0 8:1 / / rw - overlay overlay rw\n";
    private readonly AppHarness _app = new(new() { ["Persistence:RequireVolume"] = "true", ["Persistence:VolumeCheckSeconds"] = "1" }, mountInfo: ContainerLayerOnly);

    public void Dispose() => _app.Dispose();

    private string DataDirectory => Path.GetDirectoryName(_app.DatabasePath)!;

    private async Task<(int Status, JsonElement Body)> HealthAsync()
    {
        var result = Assert.IsType<ContentResult>(await _app.Create<HealthFunction>().Run(new DefaultHttpContext().Request));
        return (result.StatusCode!.Value, JsonDocument.Parse(result.Content!).RootElement);
    }

    private async Task TickAsync(int seconds)
    {
        for (var i = 0; i < seconds; i++)
        {
            _app.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Startup_RequiredVolumeMissing_CreatesNothingThenStartsByItselfWhenItIsMounted()
    {
        Directory.CreateDirectory(DataDirectory); // the directory exists on the container's own layer
        var startup = _app.Get<IEnumerable<IHostedService>>().OfType<StartupService>().Single();
        await startup.StartAsync(TestContext.Current.CancellationToken);

        await TickAsync(3);
        var (waitingStatus, waiting) = await HealthAsync();

        Assert.Null(_app.Get<StartupState>().Result);
        Assert.Equal(503, waitingStatus);
        Assert.Contains(waiting.GetProperty("problems").EnumerateArray(), p => p.GetString() == StartupState.WaitingForVolumeProblem);
        Assert.Contains(waiting.GetProperty("problems").EnumerateArray(), p => p.GetString()!.Contains("is not a mounted volume", StringComparison.Ordinal));
        Assert.Equal([], Directory.GetFileSystemEntries(DataDirectory));
        var awaited = _app.Logs.GetSnapshot().Where(r => r.Id.Name == "VolumeAwaited").ToList();
        Assert.True(awaited.Count >= 2, $"{awaited.Count} VolumeAwaited logs");
        Assert.All(awaited, r => Assert.Equal(LogLevel.Error, r.Level));

        _app.Probe.MountInfo = ContainerLayerOnly + $"2 1 8:2 / {DataDirectory} rw - ext4 /dev/sdb rw\n";
        await TickAsync(2);
        var result = await _app.Get<StartupState>().WhenCompleteAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        _app.Time.Advance(TimeSpan.FromSeconds(10));
        var (readyStatus, _) = await HealthAsync();

        Assert.True(result.Succeeded, result.Failure);
        Assert.True(File.Exists(_app.DatabasePath));
        Assert.Equal(200, readyStatus);
        await startup.StopAsync(TestContext.Current.CancellationToken);
    }
}
