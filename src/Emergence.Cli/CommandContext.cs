using System.CommandLine;

namespace Emergence.Cli;

/// <summary>What every command handler needs besides its parse result.</summary>
/// <param name="Environment">The surroundings.</param>
/// <param name="Output">stdout.</param>
/// <param name="Error">stderr.</param>
internal sealed record CommandContext(CliEnvironment Environment, TextWriter Output, TextWriter Error)
{
    /// <summary>Runs a command body in a session built from the parse result's global options.</summary>
    public Task<int> RunAsync(ParseResult parsed, Option<bool>? json, Func<CliSession, Task<int>> body) =>
        CliApp.WithSessionAsync(Environment, Output, Error, CliApp.Globals(parsed, json), body);

    /// <summary>A fresh <c>--json</c> option for one command.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON." };
}
