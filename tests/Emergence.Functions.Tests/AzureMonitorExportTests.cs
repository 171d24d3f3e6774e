using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Emergence.Functions.Functions;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Tests.Support;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Tests;

[Collection(ExportedMetrics.Name)]
public sealed class AzureMonitorExportTests : IDisposable
{
    private readonly ConcurrentQueue<string> _bodies = new();
    private readonly LoopbackHttpSink _ingestion;
    private readonly AppHarness _app;

    public AzureMonitorExportTests()
    {
        _ingestion = new LoopbackHttpSink(ReceiveAsync);
        _app = new AppHarness(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={_ingestion.Endpoint}/",
        });
    }

    public void Dispose()
    {
        _app.Dispose();
        _ingestion.Dispose();
    }

    /// <summary>Keeps the telemetry sent and answers as the ingestion endpoint does when it accepts all of it.</summary>
    private async Task ReceiveAsync(HttpListenerRequest request, byte[] body, HttpListenerResponse response)
    {
        _bodies.Enqueue(Encoding.UTF8.GetString(body));
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync("{\"itemsReceived\":1,\"itemsAccepted\":1,\"errors\":[]}"u8.ToArray());
    }

    [Fact]
    public async Task Export_ConnectionStringSet_SendsTheInstrumentsToTheIngestionEndpoint()
    {
        var provider = _app.Get<MeterProvider>();
        await _app.StartAsync();
        await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !_bodies.Any(b => b.Contains("emergence.backups", StringComparison.Ordinal)))
        {
            provider.ForceFlush(5000);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        var sent = string.Join('\n', _bodies);
        Assert.Contains("emergence.backups", sent, StringComparison.Ordinal);
        Assert.Contains("emergence.health.status", sent, StringComparison.Ordinal);
        Assert.Contains("emergence-functions", sent, StringComparison.Ordinal);
    }
}
