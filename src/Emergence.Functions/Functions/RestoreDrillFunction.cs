using Emergence.Functions.Health;
using Emergence.Functions.Startup;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Functions;

/// <summary>
/// The restore drill timer, on <c>%DRILL_SCHEDULE%</c> (daily by default): downloads the newest
/// off-volume backup to a temporary directory, verifies its SHA-256 and <c>integrity_check</c>, and
/// records the result for health, where a failure shows as degraded. <c>UseMonitor = false</c> for the
/// same reason as the backup timer.
/// </summary>
public sealed class RestoreDrillFunction(StartupState state, OffsiteConnector connector, RestoreDrill drill, HealthCache health, ILogger<RestoreDrillFunction> logger)
{
    /// <summary>Runs one drill.</summary>
    [Function("RestoreDrill")]
    public async Task Run([TimerTrigger("%DRILL_SCHEDULE%", UseMonitor = false)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (!connector.Enabled)
        {
            FunctionsLog.RestoreDrillSkipped(logger, "off-volume copies are not configured (Persistence__Offsite__ConnectionString or Persistence__Offsite__ServiceUri)");
            return;
        }

        var startup = await state.WhenCompleteAsync(cancellationToken).ConfigureAwait(false);
        if (!startup.Succeeded)
        {
            FunctionsLog.RestoreDrillSkipped(logger, startup.FailureSentence!);
            return;
        }

        try
        {
            // Logged (RestoreDrillPassed/RestoreDrillFailed) and recorded for health by the drill.
            await drill.RunAsync(startup.Location, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            health.Invalidate();
        }
    }
}
