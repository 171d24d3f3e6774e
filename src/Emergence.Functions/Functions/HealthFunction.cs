using Emergence.Functions.Health;
using Emergence.Persistence.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Emergence.Functions.Functions;

/// <summary>
/// <c>GET /api/health</c>, anonymous: the volume, database and backup report; 200 when healthy or
/// degraded, 503 when unhealthy or still starting. Railway's deploy healthcheck calls it.
/// </summary>
public sealed class HealthFunction(HealthCache health)
{
    /// <summary>Returns the cached health report.</summary>
    [Function("Health")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var report = await health.GetAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return JsonResponse.Create(report, report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }
}
