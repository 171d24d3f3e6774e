using Emergence.Persistence.Health;

namespace Emergence.Persistence.Tests.Health;

public sealed class HealthVerdictTests
{
    // Each row: the severities of a report's findings ("U" unhealthy, "D" degraded), in order, and the verdict.
    [Theory]
    [InlineData("", HealthStatus.Healthy)]
    [InlineData("D", HealthStatus.Degraded)]
    [InlineData("D D D", HealthStatus.Degraded)]
    [InlineData("U", HealthStatus.Unhealthy)]
    [InlineData("D U", HealthStatus.Unhealthy)]
    [InlineData("U D", HealthStatus.Unhealthy)]
    [InlineData("D D U D", HealthStatus.Unhealthy)]
    public void Combine_Table(string severities, HealthStatus expected)
    {
        var findings = severities.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select((s, i) => s == "U" ? HealthFinding.Unhealthy($"u{i}") : HealthFinding.Degraded($"d{i}"));

        Assert.Equal(expected, HealthVerdict.Combine(findings));
    }
}
