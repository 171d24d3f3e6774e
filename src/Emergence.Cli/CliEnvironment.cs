using Emergence.Persistence.Platform;

namespace Emergence.Cli;

/// <summary>What the CLI reads from its surroundings: settings, the system probe, and whether a terminal is attached.</summary>
/// <param name="Settings">Settings as environment variables (<c>Persistence__DatabasePath</c>…).</param>
/// <param name="Probe">The environment and mount-table seam.</param>
/// <param name="Interactive">Whether standard error is a terminal, so progress can be drawn.</param>
/// <param name="Time">The clock.</param>
public sealed record CliEnvironment(IReadOnlyDictionary<string, string?> Settings, ISystemProbe Probe, bool Interactive, TimeProvider Time)
{
    /// <summary>The real process environment.</summary>
    public static CliEnvironment FromProcess()
    {
        var settings = Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        return new CliEnvironment(settings, new SystemProbe(), !Console.IsErrorRedirected, TimeProvider.System);
    }
}
