using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Emergence.Functions;

/// <summary>Routes the worker's logs to standard output, where the Functions host relays them to its console.</summary>
public static class WorkerConsoleLogging
{
    /// <summary>The prefix of this project's log categories (the library's and the function app's).</summary>
    public const string ProjectCategoryPrefix = "Emergence";

    /// <summary>The worker's own logger provider, which sends logs to the host over gRPC.</summary>
    internal const string HostChannelProvider = "Microsoft.Azure.Functions.Worker.Logging.WorkerLoggerProvider";

    /// <summary>
    /// Writes this project's events (information and above) and everyone else's warnings and errors
    /// to standard output, one line each (<see cref="EventLineFormatter"/>), and keeps this
    /// project's events off the gRPC channel, which would print them a second time when they happen
    /// inside an invocation (without their names) and drops them outside one.
    /// </summary>
    public static ILoggingBuilder AddEmergenceConsole(this ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddConsole(options => options.FormatterName = EventLineFormatter.FormatterName)
            .AddConsoleFormatter<EventLineFormatter, ConsoleFormatterOptions>();
        logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        logging.AddFilter<ConsoleLoggerProvider>(ProjectCategoryPrefix, LogLevel.Information);
        logging.Services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Add(new LoggerFilterRule(HostChannelProvider, ProjectCategoryPrefix, LogLevel.None, filter: null)));
        return logging;
    }
}
