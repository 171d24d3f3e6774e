using System.Text.Json;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Cli;

/// <summary>
/// One command's services and output: settings from the environment with the global options laid
/// over them, the persistence services, logs on stderr, and the writers for results.
/// </summary>
public sealed class CliSession : IDisposable
{
    private readonly ServiceProvider _services;

    private CliSession(ServiceProvider services, CliEnvironment environment, TextWriter output, TextWriter error, bool json)
    {
        _services = services;
        Environment = environment;
        Output = output;
        Error = error;
        Json = json;
    }

    /// <summary>The surroundings the command runs in.</summary>
    public CliEnvironment Environment { get; }

    /// <summary>Where results go (stdout).</summary>
    public TextWriter Output { get; }

    /// <summary>Where errors and progress go (stderr).</summary>
    public TextWriter Error { get; }

    /// <summary>Whether results are printed as JSON.</summary>
    public bool Json { get; }

    /// <summary>The validated settings.</summary>
    public PersistenceOptions Options => _services.GetRequiredService<IOptions<PersistenceOptions>>().Value;

    /// <summary>
    /// Builds the session. Throws <see cref="InvalidSettingException"/> for a bad setting or option, so
    /// the caller can report it before any work is done.
    /// </summary>
    public static CliSession Create(CliEnvironment environment, TextWriter output, TextWriter error, GlobalOptions globals)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(globals);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Settings.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton(environment.Time);
        services.AddSingleton(environment.Probe);
        services.AddLogging(logging => logging
            .SetMinimumLevel(globals.Verbose ? LogLevel.Information : LogLevel.Warning)
            .AddProvider(new TextWriterLoggerProvider(error)));
        services.AddEmergencePersistence(configuration, options =>
        {
            if (globals.Database is { } database)
            {
                options.DatabasePath = database;
            }

            if (globals.BackupDirectory is { } backups)
            {
                options.BackupDirectory = backups;
            }
        });

        var provider = services.BuildServiceProvider();
        try
        {
            _ = provider.GetRequiredService<IOptions<PersistenceOptions>>().Value;
        }
        catch (InvalidSettingException ex) when (OptionFor(ex.Setting, globals) is { } option)
        {
            // The value came from the command line: name the option the operator typed, not the setting.
            provider.Dispose();
            throw new InvalidSettingException(string.Concat($"Option {option}=", ex.Message.AsSpan(ex.Message.IndexOf('=', StringComparison.Ordinal) + 1)), ex);
        }
        catch
        {
            provider.Dispose();
            throw;
        }

        return new CliSession(provider, environment, output, error, globals.Json);
    }

    private static string? OptionFor(string setting, GlobalOptions globals) =>
        setting == PersistenceSettings.EnvName(PersistenceSettings.DatabasePathKey) && globals.Database is not null ? "--database"
        : setting == PersistenceSettings.EnvName(PersistenceSettings.BackupDirectoryKey) && globals.BackupDirectory is not null ? "--backup-dir"
        : null;

    /// <summary>Resolves a service.</summary>
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A progress display on stderr when it is a terminal and output is not JSON; otherwise none.</summary>
    public TerminalProgress? CreateProgress() => Environment.Interactive && !Json ? new TerminalProgress(Error) : null;

    /// <summary>Writes a value as JSON to stdout.</summary>
    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, PersistenceJson.Options));

    /// <summary>Writes an error line to stderr and returns <paramref name="exitCode"/>.</summary>
    public int Fail(string message, int exitCode = ExitCodes.Failed)
    {
        Error.WriteLine($"emergence-db: {message}");
        return exitCode;
    }

    /// <inheritdoc />
    public void Dispose() => _services.Dispose();
}
