using System.Reflection;
using System.Text.RegularExpressions;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Configuration;

namespace Emergence.Functions.Tests;

/// <summary>
/// The README, ARCHITECTURE.md and docs/ stay navigable and true as files move: every relative link reaches a file (and a heading,
/// by GitHub's anchor rules), and the settings reference lists exactly the settings the code reads.
/// </summary>
public sealed partial class DocumentationTests
{
    private static IEnumerable<string> Pages() =>
        Directory.GetFiles(RepositoryFiles.Path("docs"), "*.md", SearchOption.AllDirectories)
            .Prepend(RepositoryFiles.Path("ARCHITECTURE.md"))
            .Prepend(RepositoryFiles.Path("README.md"));

    [Fact]
    public void EveryRelativeLink_InTheReadmeArchitectureAndDocs_ReachesAFileAndItsHeading()
    {
        var failures = new List<string>();
        var checkedLinks = 0;

        foreach (var page in Pages())
        {
            var pageName = Path.GetRelativePath(RepositoryFiles.Root, page);
            foreach (var link in LinksIn(File.ReadAllText(page)))
            {
                if (ExternalLink().IsMatch(link))
                {
                    continue;
                }

                checkedLinks++;
                var hash = link.IndexOf('#', StringComparison.Ordinal);
                var target = hash < 0 ? link : link[..hash];
                var anchor = hash < 0 ? null : Uri.UnescapeDataString(link[(hash + 1)..]);
                var targetPath = target.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(target)));
                if (!File.Exists(targetPath) && !Directory.Exists(targetPath))
                {
                    failures.Add($"{pageName} links to {link}: {Path.GetRelativePath(RepositoryFiles.Root, targetPath)} does not exist");
                }
                else if (anchor is not null && !AnchorsOf(File.ReadAllText(targetPath)).Contains(anchor))
                {
                    failures.Add($"{pageName} links to {link}: {Path.GetRelativePath(RepositoryFiles.Root, targetPath)} has no heading or anchor '{anchor}'");
                }
            }
        }

        Assert.True(checkedLinks > 20, $"only {checkedLinks} relative links found: the link pattern no longer matches the pages");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("## Settings", "settings")]
    [InlineData("### Operating it: `emergence-db`", "operating-it-emergence-db")]
    [InlineData("## Deploy rehearsal (the real Functions host, as Railway runs the image)", "deploy-rehearsal-the-real-functions-host-as-railway-runs-the-image")]
    [InlineData("## WAL replication (`--sections replication`)", "wal-replication---sections-replication")]
    [InlineData("## Off-volume copies (Azure Blob Storage)", "off-volume-copies-azure-blob-storage")]
    [InlineData("## The [function app](x.md) and **its** timers", "the-function-app-and-its-timers")]
    public void AnchorsOf_AHeading_FollowsGitHubsRules(string heading, string anchor)
    {
        var anchors = AnchorsOf($"# Page\n\n{heading}\n\ntext\n");

        Assert.Contains(anchor, anchors);
    }

    [Fact]
    public void AnchorsOf_RepeatedHeadings_AreNumberedAsGitHubNumbersThem()
    {
        var anchors = AnchorsOf("# A\n\n## Notes\n\n## Notes\n\n```\n## not a heading\n```\n\n## Notes\n");

        Assert.Equal(["a", "notes", "notes-1", "notes-2"], anchors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SettingsReference_ListsExactlyTheSettingsTheCodeReads()
    {
        var read = SettingKeysInCode().Select(PersistenceSettings.EnvName).ToHashSet(StringComparer.Ordinal);
        var documented = SettingRow().Matches(File.ReadAllText(RepositoryFiles.Path("docs/reference/settings.md")))
            .Select(m => m.Groups[1].Value)
            .ToList();

        Assert.True(read.Count >= 20, $"only {read.Count} settings found in the code: the keys are no longer where this test looks");
        Assert.Equal(documented.Count, documented.Distinct(StringComparer.Ordinal).Count());
        Assert.All(read, setting => Assert.True(documented.Contains(setting), $"{setting} is read by the code but not in docs/reference/settings.md"));
        Assert.All(documented, setting => Assert.True(read.Contains(setting), $"docs/reference/settings.md lists {setting}, which the code does not read"));
    }

    /// <summary>
    /// The configuration keys the code reads: every public constant named <c>*Key</c> of the library's Configuration
    /// namespace (the persistence, off-volume and replication settings, the schedules) and of the function app's options.
    /// </summary>
    private static IEnumerable<string> SettingKeysInCode() =>
        typeof(PersistenceSettings).Assembly.GetTypes()
            .Where(type => type.Namespace == typeof(PersistenceSettings).Namespace)
            .Append(typeof(FunctionAppOptions))
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => field.IsLiteral && field.FieldType == typeof(string) && field.Name.EndsWith("Key", StringComparison.Ordinal))
            .Select(field => (string)field.GetRawConstantValue()!);

    /// <summary>The targets of the inline and reference-style links of a Markdown page, outside code blocks and code spans.</summary>
    private static IEnumerable<string> LinksIn(string markdown)
    {
        foreach (var line in OutsideCodeBlocks(markdown))
        {
            var text = CodeSpan().Replace(line, "");
            foreach (Match match in InlineLink().Matches(text))
            {
                yield return match.Groups[1].Value;
            }

            if (ReferenceLink().Match(text) is { Success: true } reference)
            {
                yield return reference.Groups[1].Value;
            }
        }
    }

    /// <summary>
    /// The anchors GitHub gives a page: each heading's text as rendered, lowercased, with everything but letters, marks,
    /// digits, connector punctuation, spaces and hyphens removed and spaces turned into hyphens; a repeated anchor gets
    /// -1, -2, … in order. Explicit <c>&lt;a id="…"&gt;</c> and <c>name="…"</c> anchors count as well.
    /// </summary>
    private static HashSet<string> AnchorsOf(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in OutsideCodeBlocks(markdown))
        {
            foreach (Match html in HtmlAnchor().Matches(line))
            {
                anchors.Add(html.Groups[1].Value);
            }

            if (Heading().Match(line) is not { Success: true } heading)
            {
                continue;
            }

            var rendered = InlineLink().Replace(heading.Groups[1].Value, m => m.Groups["text"].Value).Replace("`", "", StringComparison.Ordinal).Replace("*", "", StringComparison.Ordinal);
            var slug = NotInAnchor().Replace(rendered.Trim().ToLowerInvariant(), "").Replace(' ', '-');
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    private static IEnumerable<string> OutsideCodeBlocks(string markdown)
    {
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (!inFence)
            {
                yield return line;
            }
        }
    }

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")]
    private static partial Regex ReferenceLink();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"^[a-z][a-z0-9+.-]*:", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalLink();

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"<a\s+(?:id|name)=""([^""]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlAnchor();

    [GeneratedRegex(@"[^\p{L}\p{M}\p{N}\p{Pc} -]")]
    private static partial Regex NotInAnchor();

    [GeneratedRegex(@"^\| `([A-Za-z0-9_]+)` \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();
}
