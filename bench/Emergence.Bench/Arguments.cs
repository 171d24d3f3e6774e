using System.Globalization;

namespace Emergence.Bench;

/// <summary>The benchmark's command line.</summary>
public sealed record Arguments(int SizeMib, int SmallMib, int Runs, int WriterSeconds, string Directory, string Output, IReadOnlySet<string> Sections, bool Reuse)
{
    /// <summary>What a full run measures; <c>--sections</c> picks some of them (for investigating one figure).</summary>
    public static readonly string[] AllSections = ["copy", "writer", "health", "compression", "offsite"];

    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        int Int(string key, int fallback) => values.TryGetValue(key, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return new Arguments(
            Int("--size-mib", 1024),
            Int("--small-mib", 100),
            Int("--runs", 3),
            Int("--writer-seconds", 8),
            values.GetValueOrDefault("--dir", Path.Combine(Path.GetTempPath(), "emergence-bench")),
            values.GetValueOrDefault("--out", "bench/RESULTS.md"),
            values.GetValueOrDefault("--sections", string.Join(',', AllSections)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
            values.GetValueOrDefault("--reuse", "false") == "true");
    }
}
