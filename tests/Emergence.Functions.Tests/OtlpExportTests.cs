using Emergence.Functions.Functions;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Tests.Support;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Tests;

[Collection(ExportedMetrics.Name)]
public sealed class OtlpExportTests : IDisposable
{
    private readonly OtlpReceiver _receiver = new();
    private readonly AppHarness _app;

    public OtlpExportTests()
    {
        _app = new AppHarness(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
    }

    public void Dispose()
    {
        _app.Dispose();
        _receiver.Dispose();
    }

    private async Task<OtlpReceiver.ReceivedMetric> ArrivedAsync(string name, Func<OtlpReceiver.ReceivedMetric, bool>? also = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_receiver.Received.LastOrDefault(m => m.Name == name && m.Points.Count > 0 && (also is null || also(m))) is { } metric)
            {
                return metric;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{name} did not arrive at the OTLP receiver within 60 s; received: {string.Join(", ", _receiver.Received.Select(m => m.Name).Distinct())}");
        return null!;
    }

    [Fact]
    public async Task Export_OtlpEndpointSet_SendsTheInstrumentsWithNamesUnitsAndAttributes()
    {
        _ = _app.Get<MeterProvider>();
        await _app.StartAsync();
        await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request);

        var backups = await ArrivedAsync("emergence.backups");
        var duration = await ArrivedAsync("emergence.backup.duration");
        var lastSuccess = await ArrivedAsync("emergence.backup.last_success.timestamp");
        var status = await ArrivedAsync("emergence.health.status");
        var free = await ArrivedAsync("emergence.volume.free");

        Assert.Equal(("{backup}", "sum"), (backups.Unit, backups.Kind));
        Assert.Contains(backups.Points, p => p["result"] == "ok");
        Assert.Equal(("s", "histogram"), (duration.Unit, duration.Kind));
        Assert.Contains(duration.Points, p => p["result"] == "ok");
        Assert.Equal(("s", "gauge"), (lastSuccess.Unit, lastSuccess.Kind));
        Assert.Equal(("{status}", "gauge"), (status.Unit, status.Kind));
        Assert.Equal(("By", "gauge"), (free.Unit, free.Kind));
        Assert.All(_receiver.Received, m => Assert.Equal("emergence-functions", m.ServiceName));
        Assert.All(_receiver.Paths, path => Assert.Equal("/v1/metrics", path));
    }
}
