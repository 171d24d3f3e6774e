using System.Net;
using Amazon.Runtime;

namespace Emergence.Persistence.Metrics;

/// <summary>
/// Gives the S3 client HTTP clients that count every request they send to the off-volume <paramref name="target"/>, as
/// <see cref="OffsiteRequestPolicy"/> does for Azure: each attempt (the SDK's retries send again through the same
/// client), by operation, with the body bytes each way and whether it failed. The clients are otherwise what the SDK
/// would build: its timeout, its connection limit, no automatic redirects.
/// </summary>
public sealed class S3RequestCounter(PersistenceMetrics metrics, string target) : HttpClientFactory
{
    /// <inheritdoc />
    public override HttpClient CreateHttpClient(IClientConfig clientConfig)
    {
        ArgumentNullException.ThrowIfNull(clientConfig);
        var sockets = new SocketsHttpHandler
        {
            AllowAutoRedirect = clientConfig.AllowAutoRedirect,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = clientConfig.MaxConnectionsPerServer ?? int.MaxValue,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        return new HttpClient(new Counting(metrics, target) { InnerHandler = sockets })
        {
            Timeout = clientConfig.Timeout ?? TimeSpan.FromSeconds(100),
        };
    }

    /// <inheritdoc />
    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

    /// <inheritdoc />
    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    /// <inheritdoc />
    public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;

    /// <summary>
    /// The operation an S3 request performs, named from its method and query: <c>list</c>, <c>put_object</c>,
    /// <c>upload_part</c>, <c>create_multipart_upload</c>, <c>complete_multipart_upload</c>,
    /// <c>abort_multipart_upload</c>, <c>get_object</c>, <c>head_object</c>, <c>delete_object</c>, <c>delete_objects</c>, …
    /// </summary>
    public static string Operation(string method, string query)
    {
        ArgumentNullException.ThrowIfNull(method);
        var parameters = (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)[0].ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);
        return method.ToUpperInvariant() switch
        {
            "GET" when parameters.Contains("list-type") => "list",
            "PUT" when parameters.Contains("partnumber") => "upload_part",
            "POST" when parameters.Contains("uploads") => "create_multipart_upload",
            "POST" when parameters.Contains("uploadid") => "complete_multipart_upload",
            "DELETE" when parameters.Contains("uploadid") => "abort_multipart_upload",
            "POST" when parameters.Contains("delete") => "delete_objects",
            "PUT" => "put_object",
            "GET" => "get_object",
            "HEAD" => "head_object",
            "DELETE" => "delete_object",
            var verb => verb.ToLowerInvariant(),
        };
    }

    /// <summary>Counts each request on its way through, whatever becomes of it.</summary>
    private sealed class Counting(PersistenceMetrics metrics, string target) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                return response;
            }
            finally
            {
                var sent = request.Content?.Headers.ContentLength ?? 0;
                // A HEAD response announces the object's length but carries no body.
                var received = response is not null && request.Method != HttpMethod.Head ? response.Content.Headers.ContentLength ?? 0 : 0;
                var failed = response is null || OffsiteRequestPolicy.Failed((int)response.StatusCode);
                metrics.OffsiteRequest(target, Operation(request.Method.Method, request.RequestUri?.Query ?? ""), sent, received, failed);
            }
        }
    }
}
