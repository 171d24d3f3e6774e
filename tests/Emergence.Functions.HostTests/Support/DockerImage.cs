using System.Text;
using System.Text.Json;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// What the repository's <c>Dockerfile</c> puts in the runtime image, read from the file itself so a
/// wrong or missing line fails a rehearsal: the <c>ENV</c> block, the files it copies from the build
/// context, the directories it copies from the build stage, and its <c>CMD</c>.
/// </summary>
public sealed class DockerImage
{
    private DockerImage(IReadOnlyDictionary<string, string> environment, IReadOnlyList<(string Source, string Target)> contextCopies,
        IReadOnlyList<string> stageCopies, IReadOnlyList<string> command)
    {
        Environment = environment;
        ContextCopies = contextCopies;
        StageCopies = stageCopies;
        Command = command;
    }

    /// <summary>The runtime stage's <c>ENV</c> variables, in order.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary><c>COPY source target</c> lines of the runtime stage that copy from the repository.</summary>
    public IReadOnlyList<(string Source, string Target)> ContextCopies { get; }

    /// <summary>The targets of <c>COPY --from=…</c> lines: directories the build stage publishes into the image.</summary>
    public IReadOnlyList<string> StageCopies { get; }

    /// <summary>The exec-form <c>CMD</c>.</summary>
    public IReadOnlyList<string> Command { get; }

    public static DockerImage Read(string dockerfilePath)
    {
        var instructions = Instructions(File.ReadAllLines(dockerfilePath));
        var runtime = instructions.Skip(instructions.FindLastIndex(i => i.Keyword == "FROM") + 1).ToList();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var contextCopies = new List<(string, string)>();
        var stageCopies = new List<string>();
        string[] command = [];
        foreach (var (keyword, arguments) in runtime)
        {
            switch (keyword)
            {
                case "ENV":
                    foreach (var word in Words(arguments))
                    {
                        var equals = word.IndexOf('=', StringComparison.Ordinal);
                        if (equals <= 0)
                        {
                            throw new FormatException($"Dockerfile ENV entry without '=': {word}");
                        }

                        environment[word[..equals]] = word[(equals + 1)..];
                    }

                    break;
                case "COPY" when arguments.StartsWith("--from=", StringComparison.Ordinal):
                    stageCopies.Add(JsonSerializer.Deserialize<string[]>(arguments[(arguments.IndexOf(' ', StringComparison.Ordinal) + 1)..])![^1]);
                    break;
                case "COPY":
                    var paths = Words(arguments);
                    contextCopies.Add((paths[0], paths[^1]));
                    break;
                case "CMD":
                    command = JsonSerializer.Deserialize<string[]>(arguments)!;
                    break;
            }
        }

        return new DockerImage(environment, contextCopies, stageCopies, command);
    }

    /// <summary>Joins continuation lines and drops comments: (keyword, arguments) per instruction.</summary>
    private static List<(string Keyword, string Arguments)> Instructions(string[] lines)
    {
        var result = new List<(string, string)>();
        var current = new StringBuilder();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            var continues = line.EndsWith('\\');
            current.Append(continues ? line[..^1] : line).Append(' ');
            if (!continues)
            {
                var text = current.ToString().Trim();
                current.Clear();
                var space = text.IndexOf(' ', StringComparison.Ordinal);
                result.Add(space < 0 ? (text.ToUpperInvariant(), "") : (text[..space].ToUpperInvariant(), text[(space + 1)..].Trim()));
            }
        }

        return result;
    }

    /// <summary>Splits on spaces outside double quotes, removing the quotes, as Docker reads ENV and COPY.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        if (any)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
