using Emergence.Functions.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Functions;

/// <summary>
/// <c>GET /api/metrics/anonymous</c>: the same text as <c>/api/metrics</c> without a key, when
/// <c>Persistence__Metrics__Anonymous</c> is true; 404 otherwise. A function's authorization level is fixed
/// in the build's <c>functions.metadata</c>, so a run-time setting can only choose between two functions.
/// </summary>
public sealed class AnonymousMetricsFunction(MetricsScrape scrape, IOptions<FunctionAppOptions> options)
{
    /// <summary>Collects and returns the metrics, or 404 when anonymous metrics are off.</summary>
    [Function("MetricsAnonymous")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "metrics/anonymous")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return options.Value.MetricsAnonymous
            ? await MetricsFunction.Respond(scrape, request).ConfigureAwait(false)
            : new NotFoundResult();
    }
}
