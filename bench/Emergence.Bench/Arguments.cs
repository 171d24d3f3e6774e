using System.Globalization;

namespace Emergence.Bench;

/// <summary>The benchmark's command line.</summary>
public sealed record Arguments(int SizeMib, int SmallMib, int Runs, int WriterSeconds, int WriterTrials, string Directory, string Output, IReadOnlySet<string> Sections, bool Reuse)
{
    /// <summary>The replication section's second writer: commits a second, 0 for as fast as it can commit (<c>--writer-rate</c>).</summary>
    public int WriterRate { get; init; }

    /// <summary>What a full run measures; <c>--sections</c> picks some of them (for investigating one figure).</summary>
    public static readonly string[] AllSections = ["copy", "writer", "health", "compression", "offsite", "linearity", "replication", "steady-writer", "history", "history-rate"];

    private static readonly string[] Known = ["--size-mib", "--small-mib", "--runs", "--writer-seconds", "--writer-trials", "--dir", "--out", "--sections", "--reuse", "--writer-rate"];

    /// <summary>Parses <c>--name value</c> pairs; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static Arguments Parse(string[] args)
    {
        if (args.Length % 2 != 0)
        {
            throw new ArgumentException($"expected '--name value' pairs; '{args[^1]}' has no value.");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            values[Known.Contains(args[i]) ? args[i] : throw new ArgumentException($"unknown option '{args[i]}'; expected one of {string.Join(", ", Known)}.")] = args[i + 1];
        }

        int Int(string key, int fallback) => !values.TryGetValue(key, out var text)
            ? fallback
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new ArgumentException($"{key} expects a whole number above 0, not '{text}'.");
        var sections = values.GetValueOrDefault("--sections", string.Join(',', AllSections)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (sections.FirstOrDefault(s => !AllSections.Contains(s)) is { } unknown)
        {
            throw new ArgumentException($"unknown section '{unknown}'; expected some of {string.Join(",", AllSections)}.");
        }

        var rate = values.GetValueOrDefault("--writer-rate", "0");
        if (!int.TryParse(rate, NumberStyles.None, CultureInfo.InvariantCulture, out var writerRate))
        {
            throw new ArgumentException($"--writer-rate expects a whole number of commits a second, 0 for as fast as the writer can commit, not '{rate}'.");
        }

        return new Arguments(
            Int("--size-mib", 1024),
            Int("--small-mib", 100),
            Int("--runs", 3),
            Int("--writer-seconds", 12),
            Int("--writer-trials", 5),
            values.GetValueOrDefault("--dir", Path.Combine(Path.GetTempPath(), "emergence-bench")),
            values.GetValueOrDefault("--out", "bench/RESULTS.md"),
            sections,
            values.GetValueOrDefault("--reuse", "false") switch
            {
                "true" => true,
                "false" => false,
                var other => throw new ArgumentException($"--reuse expects true or false, not '{other}'."),
            })
        { WriterRate = writerRate };
    }
}
