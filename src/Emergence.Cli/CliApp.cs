using System.CommandLine;
using Emergence.Cli.Commands;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli;

/// <summary>The <c>emergence-db</c> command line: parses arguments, maps usage errors to exit code 64, runs the command.</summary>
public static class CliApp
{
    /// <summary>The global <c>--database</c> option.</summary>
    internal static readonly Option<string?> DatabaseOption = new("--database")
    {
        Description = "The database file (overrides Persistence__DatabasePath).",
        Recursive = true,
        HelpName = "PATH",
    };

    /// <summary>The global <c>--backup-dir</c> option.</summary>
    internal static readonly Option<string?> BackupDirOption = new("--backup-dir")
    {
        Description = "The backup directory (overrides Persistence__BackupDirectory).",
        Recursive = true,
        HelpName = "DIR",
    };

    /// <summary>The global <c>--verbose</c> option.</summary>
    internal static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Also log information-level events to stderr.",
        Recursive = true,
    };

    /// <summary>Runs the CLI with the given arguments and surroundings; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var root = BuildRoot(output, error, environment);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync($"emergence-db: {parseError.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run 'emergence-db --help' for the commands and their options.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // SIGINT and SIGTERM cancel cancellationToken (Program.cs): a command that stops cleanly on it chooses its own
        // exit code (replicate: 0), instead of the parser's fixed 130 or 143.
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        try
        {
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("emergence-db: interrupted.").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or VolumeLockTimeoutException)
        {
            // An operator gets the cause in one line, not a stack trace.
            await error.WriteLineAsync($"emergence-db: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
    }

    /// <summary>Reads the global options from a parse result.</summary>
    internal static GlobalOptions Globals(ParseResult parsed, Option<bool>? json = null) =>
        new(parsed.GetValue(DatabaseOption), parsed.GetValue(BackupDirOption), json is not null && parsed.GetValue(json), parsed.GetValue(VerboseOption));

    /// <summary>
    /// Creates the session and runs <paramref name="body"/>, turning a bad setting into exit code 64
    /// with the setting's one-line message.
    /// </summary>
    internal static async Task<int> WithSessionAsync(CliEnvironment environment, TextWriter output, TextWriter error, GlobalOptions globals, Func<CliSession, Task<int>> body)
    {
        CliSession session;
        try
        {
            session = CliSession.Create(environment, output, error, globals);
        }
        catch (InvalidSettingException ex)
        {
            await error.WriteLineAsync($"emergence-db: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using (session)
        {
            return await body(session).ConfigureAwait(false);
        }
    }

    private static RootCommand BuildRoot(TextWriter output, TextWriter error, CliEnvironment environment)
    {
        var root = new RootCommand("Operate the Emergence SQLite database on its volume: status, backups, verification and restore.");
        root.Options.Add(DatabaseOption);
        root.Options.Add(BackupDirOption);
        root.Options.Add(VerboseOption);
        var context = new CommandContext(environment, output, error);
        root.Subcommands.Add(StartupCommand.Create(context));
        root.Subcommands.Add(StatusCommand.Create(context));
        root.Subcommands.Add(BackupCommand.Create(context));
        root.Subcommands.Add(ListCommand.Create(context));
        root.Subcommands.Add(VerifyCommand.Create(context));
        root.Subcommands.Add(RestoreCommand.Create(context));
        root.Subcommands.Add(ReplicateCommand.Create(context));
        root.Subcommands.Add(DrillCommand.Create(context));
        var commands = CommandList(root);
        root.SetAction(parsed =>
        {
            error.WriteLine($"emergence-db: a command is required: {commands}.");
            error.WriteLine("Run 'emergence-db --help' for the commands and their options.");
            return ExitCodes.Usage;
        });
        return root;
    }

    /// <summary>The registered commands' names as a sentence ("startup, status … or drill"), so the usage message cannot miss one.</summary>
    internal static string CommandList(Command root)
    {
        var names = root.Subcommands.Where(command => !command.Hidden).Select(command => command.Name).ToList();
        return names.Count > 1 ? $"{string.Join(", ", names[..^1])} or {names[^1]}" : string.Concat(names);
    }
}
