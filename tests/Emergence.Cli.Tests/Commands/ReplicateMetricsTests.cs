using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary><c>emergence-db replicate</c>, a real process, exports the metrics over OTLP/HTTP to a receiver on loopback.</summary>
public sealed class ReplicateMetricsTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly OtlpReceiver _receiver = new();

    public void Dispose()
    {
        _receiver.Dispose();
        _cli.Dispose();
    }

    [Fact]
    public async Task Replicate_OtlpEndpointSet_ExportsTheReplicationLagAndHealthAsEmergenceDb()
    {
        Assert.Equal(0, (await _cli.RunAsync("startup")).Exit);
        _cli.Settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.Endpoint;
        _cli.Settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        _cli.Settings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        using var process = _cli.StartProcess("replicate");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline && !(Has("emergence.replication.lag") && Has("emergence.health.status") && Has("emergence.replication.wal.size")))
            {
                Assert.False(process.HasExited, $"replicate exited with {(process.HasExited ? process.ExitCode : 0)}");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        var lag = _receiver.Received.Last(m => m.Name == "emergence.replication.lag" && m.Points.Count > 0);
        Assert.Equal(("s", "gauge"), (lag.Unit, lag.Kind));
        var wal = _receiver.Received.Last(m => m.Name == "emergence.replication.wal.size" && m.Points.Count > 0);
        Assert.Equal(("By", "gauge"), (wal.Unit, wal.Kind));
        Assert.Contains(_receiver.Received, m => m.Name == "emergence.health.status" && m.Unit == "{status}" && m.Points.Count > 0);
        Assert.All(_receiver.Received, m => Assert.Equal("emergence-db", m.ServiceName));
    }

    private bool Has(string name) => _receiver.Received.Any(m => m.Name == name && m.Points.Count > 0);
}
