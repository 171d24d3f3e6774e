namespace Emergence.Persistence.Health;

/// <summary>One sentence of a health report and how bad it is.</summary>
/// <param name="Severity"><see cref="HealthStatus.Degraded"/> (protection weakened) or <see cref="HealthStatus.Unhealthy"/> (data not safe or not usable).</param>
/// <param name="Sentence">What is wrong, for an operator, with what to do when there is something to do.</param>
public readonly record struct HealthFinding(HealthStatus Severity, string Sentence)
{
    /// <summary>A finding that makes the report unhealthy.</summary>
    public static HealthFinding Unhealthy(string sentence) => new(HealthStatus.Unhealthy, sentence);

    /// <summary>A finding that makes the report degraded.</summary>
    public static HealthFinding Degraded(string sentence) => new(HealthStatus.Degraded, sentence);
}

/// <summary>What one concern's check found: its section of the report and its findings.</summary>
/// <typeparam name="T">The section's type.</typeparam>
/// <param name="Section">The section (JSON) the check fills.</param>
/// <param name="Findings">Its sentences, in the order the report lists them.</param>
public sealed record Checked<T>(T Section, IReadOnlyList<HealthFinding> Findings);
