using System.Text.RegularExpressions;

namespace Emergence.Functions.Tests;

/// <summary>
/// ARCHITECTURE.md stays true as code moves: every folder it names exists, every source folder is named,
/// every file it cites exists, and each folder uses only what its row allows, all of it in rows below it
/// (so the folders of a project have no cycle).
/// </summary>
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

    [Fact]
    public void EachFolder_UsesOnlyTheFoldersItsRowAllows_AllOfThemBelowIt()
    {
        var rows = UseRow().Matches(Text).Select(m => (Folder: m.Groups[1].Value, MayUse: m.Groups[2].Value)).ToList();
        var failures = new List<string>();
        foreach (var project in rows.Select(r => ProjectOf(r.Folder)).Distinct())
        {
            var own = rows.Where(r => ProjectOf(r.Folder) == project).ToList();
            var names = own.Select(r => ShortName(r.Folder)).ToList();
            for (var index = 0; index < own.Count; index++)
            {
                var below = names.Skip(index + 1).ToHashSet();
                var allowed = Allowed(own[index].MayUse, names, below, failures, own[index].Folder);
                failures.AddRange(allowed.Where(a => !below.Contains(a)).Select(a => $"{own[index].Folder} may use {a}, which is not below it in the table"));
                foreach (var (used, file) in References(own[index].Folder, own.Select(r => r.Folder)))
                {
                    if (!allowed.Contains(ShortName(used)))
                    {
                        failures.Add($"{file} uses {used}, which its folder's row does not allow");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string ProjectOf(string folder) => string.Join('/', folder.Split('/').Take(2));

    private static string ShortName(string folder) => folder[(ProjectOf(folder).Length + 1)..];

    /// <summary>The folders a "may use" cell names: folder names of the same project, or a phrase meaning all below, or none.</summary>
    private static HashSet<string> Allowed(string cell, List<string> names, HashSet<string> below, List<string> failures, string folder)
    {
        var allowed = new HashSet<string>();
        foreach (var raw in cell.Split(','))
        {
            var token = Parenthetical().Replace(raw, "").Trim();
            if (token is "everything in the library" or "the app's other folders")
            {
                allowed.UnionWith(below);
            }
            else if (names.Contains(token))
            {
                allowed.Add(token);
            }
            else if (token is not ("nothing" or "the library" or "the CLI's root files"))
            {
                failures.Add($"{folder}'s row names '{token}', which is not a folder of its project");
            }
        }

        return allowed;
    }

    /// <summary>The other folders of the project that a folder's own files refer to: by using directive, by full name, or by a type of theirs named relative to the project.</summary>
    private static IEnumerable<(string Used, string File)> References(string folder, IEnumerable<string> projectFolders)
    {
        var rootNamespace = ProjectOf(folder).Split('/')[1];
        var others = projectFolders.Where(f => f != folder).Select(f => (Folder: f, Namespace: $"{rootNamespace}.{ShortName(f).Replace('/', '.')}", Types: TypesIn(f))).ToList();
        foreach (var file in Directory.GetFiles(RepositoryFiles.Path(folder), "*.cs"))
        {
            var text = File.ReadAllText(file);
            foreach (var other in others)
            {
                var byNamespace = Regex.IsMatch(text, $@"\b{Regex.Escape(other.Namespace)}\b(?!\.\w)|\b{Regex.Escape(other.Namespace)}\.[A-Z]");
                var byRelativeName = other.Types.Any(type => Regex.IsMatch(text, $@"(?<![\w.]){Regex.Escape(ShortName(other.Folder).Replace('/', '.'))}\.{type}\b"));
                if (byNamespace || byRelativeName)
                {
                    yield return (other.Folder, Path.GetRelativePath(RepositoryFiles.Root, file));
                }
            }
        }
    }

    private static HashSet<string> TypesIn(string folder) =>
        [.. Directory.GetFiles(RepositoryFiles.Path(folder), "*.cs").SelectMany(file => TypeDeclaration().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))];

    [GeneratedRegex(@"^\| `(src/[^`]+)` \| [^|]+ \| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex UseRow();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthetical();

    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+([A-Z]\w*)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^\| `(src/[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex FolderRow();

    [GeneratedRegex(@"`((?:src/)?[A-Za-z./]+/[A-Za-z]+\.cs)`")]
    private static partial Regex CitedFile();
}
