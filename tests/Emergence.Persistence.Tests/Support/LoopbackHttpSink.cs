using System.IO.Compression;
using System.Net;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// An HTTP endpoint on loopback for an exporter under test to send to: each request's body (unzipped when it came
/// gzip-encoded) is handed with the request to a handler, which fills in the response; then the response is sent.
/// </summary>
public sealed class LoopbackHttpSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<HttpListenerRequest, byte[], HttpListenerResponse, Task> _handle;
    private readonly Task _loop;

    public LoopbackHttpSink(Func<HttpListenerRequest, byte[], HttpListenerResponse, Task> handle)
    {
        _handle = handle;
        Port = Azurite.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            var gzip = string.Equals(context.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase);
            await using (var input = gzip ? new GZipStream(context.Request.InputStream, CompressionMode.Decompress) : context.Request.InputStream)
            {
                await input.CopyToAsync(body);
            }

            await _handle(context.Request, body.ToArray(), context.Response);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}
