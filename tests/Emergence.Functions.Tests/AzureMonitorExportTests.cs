using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Emergence.Functions.Functions;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Tests.Support;
using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Tests;

[Collection(ExportedMetrics.Name)]
public sealed class AzureMonitorExportTests : IDisposable
{
    private readonly HttpListener _ingestion = new();
    private readonly ConcurrentQueue<string> _bodies = new();
    private readonly Task _loop;
    private readonly AppHarness _app;

    public AzureMonitorExportTests()
    {
        var port = Azurite.FreePort();
        _ingestion.Prefixes.Add($"http://127.0.0.1:{port}/");
        _ingestion.Start();
        _loop = Task.Run(ServeAsync);
        _app = new AppHarness(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:{port}/",
        });
    }

    public void Dispose()
    {
        _app.Dispose();
        _ingestion.Stop();
        _ingestion.Close();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }

    private async Task ServeAsync()
    {
        while (_ingestion.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _ingestion.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            Stream body = context.Request.InputStream;
            if (string.Equals(context.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase))
            {
                body = new GZipStream(body, CompressionMode.Decompress);
            }

            using (var reader = new StreamReader(body))
            {
                _bodies.Enqueue(await reader.ReadToEndAsync());
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await using (var writer = new StreamWriter(context.Response.OutputStream))
            {
                await writer.WriteAsync("{\"itemsReceived\":1,\"itemsAccepted\":1,\"errors\":[]}");
            }

            context.Response.Close();
        }
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
