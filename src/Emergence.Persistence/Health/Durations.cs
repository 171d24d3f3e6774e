namespace Emergence.Persistence.Health;

/// <summary>Durations as health sentences and the CLI print them.</summary>
public static class Durations
{
    /// <summary>A duration in the largest whole unit that fits, e.g. "3 h 5 min", "42 s".</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } => $"{(int)span.TotalDays} d {span.Hours} h",
        { TotalHours: >= 1 } => $"{(int)span.TotalHours} h {span.Minutes} min",
        { TotalMinutes: >= 1 } => $"{(int)span.TotalMinutes} min",
        _ => $"{Math.Max(0, (int)span.TotalSeconds)} s",
    };
}
