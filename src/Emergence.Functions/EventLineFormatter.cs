using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Emergence.Functions;

/// <summary>
/// Writes each log event as one line on the worker's standard output, with its level, event name and
/// id, category and message: <c>warning VolumeAwaited[1005] Emergence…StartupService: Startup is
/// waiting…</c>. The Functions host drops the worker's logs that are sent to it outside a function
/// invocation (startup, the monitors), but relays every line the worker writes to standard output to
/// its own console (category <c>Host.Function.Console</c>), which is the log on Railway; one line per
/// event keeps each event searchable by its name there.
/// </summary>
internal sealed class EventLineFormatter : ConsoleFormatter
{
    /// <summary>The name this formatter is registered and selected under.</summary>
    public const string FormatterName = "emergence-event-line";

    /// <summary>Creates the formatter.</summary>
    public EventLineFormatter()
        : base(FormatterName)
    {
    }

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        var eventId = logEntry.EventId;
        var name = string.IsNullOrEmpty(eventId.Name) ? "Event" : eventId.Name;
        textWriter.Write(LevelWord(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(name);
        textWriter.Write('[');
        textWriter.Write(eventId.Id);
        textWriter.Write("] ");
        textWriter.Write(logEntry.Category);
        textWriter.Write(": ");
        textWriter.Write(OneLine(message));
        if (logEntry.Exception is { } exception)
        {
            // The cause stays on the event's line; the stack trace follows on lines of its own.
            textWriter.Write(" | ");
            textWriter.Write(OneLine($"{exception.GetType().FullName}: {exception.Message}"));
            if (exception.StackTrace is { } stackTrace)
            {
                textWriter.Write(Environment.NewLine);
                textWriter.Write(stackTrace);
            }
        }

        textWriter.Write(Environment.NewLine);
    }

    /// <summary>The level as operators read it in the event table of docs/reference/logs.md.</summary>
    internal static string LevelWord(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };

    private static string OneLine(string text) =>
        text.Contains('\n', StringComparison.Ordinal) ? text.ReplaceLineEndings(" ") : text;
}
