using System.Globalization;

namespace Emergence.Functions.Tests.Support;

/// <summary>Prometheus text parsed into samples keyed by name and labels as written (<c>name{a="b"}</c>).</summary>
public static class PrometheusScrape
{
    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
