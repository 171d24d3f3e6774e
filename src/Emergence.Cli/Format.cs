using System.Globalization;

namespace Emergence.Cli;

/// <summary>Human-readable sizes and ages for the CLI's text output.</summary>
public static class Format
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    /// <summary>A byte count with a binary unit, e.g. <c>1.5 GiB</c>.</summary>
    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {Units[unit]}");
    }

    /// <summary>An age such as <c>3 h 5 min ago</c>.</summary>
    public static string Age(TimeSpan age) => Emergence.Persistence.Health.Durations.Describe(age) + " ago";
}
