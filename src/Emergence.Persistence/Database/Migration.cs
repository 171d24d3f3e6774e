using System.Globalization;
using System.Text.RegularExpressions;

namespace Emergence.Persistence.Database;

/// <summary>One schema migration: a numbered SQL script, applied once, tracked by <c>PRAGMA user_version</c>.</summary>
/// <param name="Version">The number in its name; the schema version after it is applied.</param>
/// <param name="Name">The descriptive part of its name.</param>
/// <param name="Sql">The script.</param>
public sealed partial record Migration(int Version, string Name, string Sql)
{
    private const string ResourcePrefix = "Emergence.Persistence.Migrations.";

    /// <summary>The migrations embedded in this library (<c>Database/Migrations/NNNN_name.sql</c>), in order.</summary>
    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    /// <summary>Parses a script's file name, <c>NNNN_name.sql</c>, and pairs it with its text.</summary>
    /// <exception cref="FormatException">The name does not follow the pattern.</exception>
    public static Migration FromFile(string fileName, string sql)
    {
        var match = FileNamePattern().Match(fileName);
        return match.Success
            ? new Migration(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, sql)
            : throw new FormatException($"Migration file '{fileName}' must be named NNNN_name.sql.");
    }

    /// <summary>Checks that versions run 1, 2, 3… with no gap or repeat, and returns them ordered.</summary>
    /// <exception cref="InvalidOperationException">A version is missing or repeated.</exception>
    public static IReadOnlyList<Migration> Ordered(IEnumerable<Migration> migrations)
    {
        var ordered = migrations.OrderBy(m => m.Version).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Migrations must be numbered 1, 2, 3… without gaps; found {ordered[i].Version} at position {i + 1}.");
            }
        }

        return ordered;
    }

    private static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(Migration).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(FromFile(resource[ResourcePrefix.Length..], reader.ReadToEnd()));
        }

        return [.. Ordered(migrations)];
    }

    [GeneratedRegex(@"^(\d{4})_([A-Za-z0-9_\-]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileNamePattern();
}
