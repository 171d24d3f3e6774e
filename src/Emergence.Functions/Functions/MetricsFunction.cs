using Emergence.Functions.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Emergence.Functions.Functions;

/// <summary>
/// <c>GET /api/metrics</c>, behind the function key: every instrument in Prometheus text. Prometheus passes the
/// key as the <c>code</c> parameter (see <c>docs/reference/metrics.md</c>).
/// </summary>
public sealed class MetricsFunction(MetricsScrape scrape)
{
    /// <summary>Collects and returns the metrics.</summary>
    [Function("Metrics")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "metrics")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await Respond(scrape, request).ConfigureAwait(false);
    }

    /// <summary>The scrape as a response, shared with <see cref="AnonymousMetricsFunction"/>.</summary>
    internal static async Task<IActionResult> Respond(MetricsScrape scrape, HttpRequest request)
    {
        var text = await scrape.CollectAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return new ContentResult { Content = text, ContentType = PrometheusText.ContentType, StatusCode = StatusCodes.Status200OK };
    }
}
