using System.Text.RegularExpressions;
using Emergence.Functions.Tests.Support;

namespace Emergence.Functions.Tests;

/// <summary>
/// ARCHITECTURE.md stays true as code moves: every folder it names exists, every source folder is named,
/// every file it cites exists, each folder uses only what its row allows, all of it in rows below it
/// (so the folders of a project have no cycle), every file at a project's root has a row and uses only the
/// folders it allows, and no global using of a project namespace hides a dependency from these checks.
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
                var folderFiles = Directory.GetFiles(RepositoryFiles.Path(own[index].Folder), "*.cs");
                foreach (var (used, file) in References(folderFiles, project, own.Select(r => r.Folder).Where(f => f != own[index].Folder)))
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

    [Fact]
    public void EveryRootFile_HasARow_AndUsesOnlyTheFoldersItsRowAllows()
    {
        var rows = RootFileRow().Matches(Text).Select(m => (File: m.Groups[1].Value, MayUse: m.Groups[2].Value)).ToList();
        var folders = UseRow().Matches(Text).Select(m => m.Groups[1].Value).ToList();
        var actual = Directory.GetDirectories(RepositoryFiles.Path("src"))
            .SelectMany(project => Directory.GetFiles(project, "*.cs"))
            .Select(file => Path.GetRelativePath(RepositoryFiles.Root, file))
            .ToList();
        var failures = new List<string>();

        failures.AddRange(actual.Where(file => !rows.Any(r => r.File == file)).Select(file => $"{file} is not in ARCHITECTURE.md's table of root files"));
        failures.AddRange(rows.Where(r => !File.Exists(RepositoryFiles.Path(r.File))).Select(r => $"ARCHITECTURE.md has a row for {r.File}, which does not exist"));
        foreach (var (file, mayUse) in rows.Where(r => File.Exists(RepositoryFiles.Path(r.File))))
        {
            var project = string.Join('/', file.Split('/').Take(2));
            var own = folders.Where(f => ProjectOf(f) == project).ToList();
            var names = own.Select(ShortName).ToList();
            var allowed = Allowed(mayUse, names, [.. names], failures, file);
            failures.AddRange(References([RepositoryFiles.Path(file)], project, own)
                .Where(reference => !allowed.Contains(ShortName(reference.Used)))
                .Select(reference => $"{file} uses {reference.Used}, which its row does not allow"));
        }

        Assert.NotEmpty(rows);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void NoGlobalUsing_OfAProjectNamespace()
    {
        var sources = Directory.GetFiles(RepositoryFiles.Path("src"), "*.cs", SearchOption.AllDirectories)
            .Where(file => !Path.GetRelativePath(RepositoryFiles.Root, file).Split('/').Any(part => part is "bin" or "obj"));
        var projectFiles = Directory.GetFiles(RepositoryFiles.Path("src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(RepositoryFiles.Root, "Directory.Build.*"));

        var inSources = sources.SelectMany(file => GlobalUsing().Matches(File.ReadAllText(file)).Select(m => $"{Path.GetRelativePath(RepositoryFiles.Root, file)}: global using {m.Groups[1].Value}"));
        var inProjects = projectFiles.SelectMany(file => UsingItem().Matches(File.ReadAllText(file)).Select(m => $"{Path.GetRelativePath(RepositoryFiles.Root, file)}: <Using Include=\"{m.Groups[1].Value}\">"));

        Assert.Empty(inSources.Concat(inProjects));
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

    /// <summary>Which of <paramref name="folders"/> (of one project) the <paramref name="files"/> refer to: by using directive, by full name, or by a type of theirs named relative to the project.</summary>
    private static IEnumerable<(string Used, string File)> References(IEnumerable<string> files, string project, IEnumerable<string> folders)
    {
        var rootNamespace = project.Split('/')[1];
        var others = folders.Select(f => (Folder: f, Namespace: $"{rootNamespace}.{ShortName(f).Replace('/', '.')}", Types: TypesIn(f))).ToList();
        foreach (var file in files)
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

    [GeneratedRegex(@"^\| `(src/(?![^`]*\.cs`)[^`]+)` \| [^|]+ \| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex UseRow();

    [GeneratedRegex(@"^\| `(src/[^`]+\.cs)` \| [^|]+ \| ([^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex RootFileRow();

    [GeneratedRegex(@"^\s*global\s+using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?(Emergence[\w.]*)", RegexOptions.Multiline)]
    private static partial Regex GlobalUsing();

    [GeneratedRegex(@"<Using\s+Include=""(Emergence[^""]*)""")]
    private static partial Regex UsingItem();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthetical();

    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+([A-Z]\w*)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^\| `(src/(?![^`]*\.cs`)[^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex FolderRow();

    [GeneratedRegex(@"`((?:src/)?[A-Za-z./]+/[A-Za-z]+\.cs)`")]
    private static partial Regex CitedFile();
}
