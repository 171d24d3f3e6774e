namespace Emergence.Persistence.Health;

/// <summary>The one rule that turns findings into a report's status and problem list.</summary>
public static class HealthVerdict
{
    /// <summary>Unhealthy when any finding is, else degraded when there is any finding, else healthy.</summary>
    public static HealthStatus Combine(IEnumerable<HealthFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var status = HealthStatus.Healthy;
        foreach (var finding in findings)
        {
            if (finding.Severity == HealthStatus.Unhealthy)
            {
                return HealthStatus.Unhealthy;
            }

            status = HealthStatus.Degraded;
        }

        return status;
    }
}
