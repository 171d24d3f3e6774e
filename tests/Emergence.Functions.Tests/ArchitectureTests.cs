using System.Text.RegularExpressions;

namespace Emergence.Functions.Tests;

/// <summary>ARCHITECTURE.md stays true as code moves: every folder it names exists, every source folder is named, every file it cites exists.</summary>
public sealed partial class ArchitectureTests
{
    private static readonly string Text = File.ReadAllText(RepositoryFiles.Path("ARCHITECTURE.md"));

    [Fact]
    public void FolderTable_NamesEverySourceFolder_AndOnlyFoldersThatExist()
    {
        var named = FolderRow().Matches(Text).Select(m => m.Groups[1].Value).ToList();
        var actual = Directory.GetDirectories(RepositoryFiles.Path("src"), "*", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(RepositoryFiles.Root, d))
            .Where(d => d.Count(c => c == '/') >= 2 && !d.Split('/').Any(part => part is "bin" or "obj"))
            .ToList();

        Assert.All(named, folder => Assert.True(Directory.Exists(RepositoryFiles.Path(folder)), $"ARCHITECTURE.md names {folder}, which does not exist"));
        Assert.All(actual, folder => Assert.True(named.Contains(folder), $"{folder} is not in ARCHITECTURE.md's folder table"));
    }

    [Fact]
    public void EveryFileItCites_Exists()
    {
        var cited = CitedFile().Matches(Text).Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.NotEmpty(cited);
        Assert.All(cited, file => Assert.True(
            file.StartsWith("src/", StringComparison.Ordinal)
                ? File.Exists(RepositoryFiles.Path(file))
                : Directory.GetDirectories(RepositoryFiles.Path("src")).Any(project => File.Exists(Path.Combine(project, file))),
            $"ARCHITECTURE.md cites {file}, which is not in src/"));
    }

    [GeneratedRegex(@"^\| `(src/[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex FolderRow();

    [GeneratedRegex(@"`((?:src/)?[A-Za-z./]+/[A-Za-z]+\.cs)`")]
    private static partial Regex CitedFile();
}
