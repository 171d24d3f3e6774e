using Azure.Core;
using Azure.Core.Pipeline;

namespace Emergence.Persistence.Metrics;

/// <summary>
/// Counts every request the blob client sends to the off-volume <paramref name="target"/>, retries included (it
/// sits in the pipeline per attempt), by operation, with the body bytes each way and whether it failed (no response,
/// or a status <see cref="Failed(int)"/> counts as failing).
/// </summary>
public sealed class OffsiteRequestPolicy(PersistenceMetrics metrics, string target) : HttpPipelinePolicy
{
    /// <inheritdoc />
    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ArgumentNullException.ThrowIfNull(message);
        var failed = true;
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            failed = Failed(message.Response.Status);
        }
        finally
        {
            Count(message, failed);
        }
    }

    /// <inheritdoc />
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ArgumentNullException.ThrowIfNull(message);
        var failed = true;
        try
        {
            ProcessNext(message, pipeline);
            failed = Failed(message.Response.Status);
        }
        finally
        {
            Count(message, failed);
        }
    }

    /// <summary>
    /// The operation a blob request performs, named from its method and its <c>restype</c> and <c>comp</c>
    /// parameters: <c>list</c>, <c>create_container</c>, <c>put_blob</c>, <c>put_block</c>, <c>put_block_list</c>,
    /// <c>get_blob</c>, <c>get_properties</c>, <c>delete_blob</c>, …
    /// </summary>
    public static string Operation(string method, string query)
    {
        ArgumentNullException.ThrowIfNull(method);
        var parameters = (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0].ToLowerInvariant(), p => p.Length > 1 ? p[1].ToLowerInvariant() : "", StringComparer.Ordinal);
        var container = parameters.GetValueOrDefault("restype") == "container";
        var comp = parameters.GetValueOrDefault("comp");
        return (method.ToUpperInvariant(), container, comp) switch
        {
            ("GET", true, "list") => "list",
            ("PUT", true, null) => "create_container",
            ("DELETE", true, null) => "delete_container",
            ("GET" or "HEAD", true, null) => "get_container_properties",
            ("PUT", false, "block") => "put_block",
            ("PUT", false, "blocklist") => "put_block_list",
            ("GET", false, "blocklist") => "get_block_list",
            ("PUT", false, "metadata") => "set_metadata",
            ("PUT", false, null) => "put_blob",
            ("GET", false, null) => "get_blob",
            ("HEAD", false, null) => "get_properties",
            ("DELETE", false, null) => "delete_blob",
            var (verb, _, part) => part is null ? verb.ToLowerInvariant() : $"{verb.ToLowerInvariant()}_{part}",
        };
    }

    /// <summary>
    /// Whether a response status means the target failed the request: a server error, throttling, a timeout, or a
    /// refused credential. 404, 409 and 412 are answers the client expects (a missing blob, an existing container).
    /// </summary>
    public static bool Failed(int status) => status is 401 or 403 or 408 or 429 or >= 500;

    private void Count(HttpMessage message, bool failed)
    {
        var request = message.Request;
        var sent = request.Content is { } content && content.TryComputeLength(out var length) ? length : 0;
        // A HEAD response announces the blob's length but carries no body.
        var received = message.HasResponse && request.Method != RequestMethod.Head && message.Response.Headers.ContentLength is { } announced ? announced : 0;
        metrics.OffsiteRequest(target, Operation(request.Method.Method, request.Uri.Query), sent, received, failed);
    }
}
