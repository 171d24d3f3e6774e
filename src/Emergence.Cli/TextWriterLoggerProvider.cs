using Microsoft.Extensions.Logging;

namespace Emergence.Cli;

/// <summary>
/// Writes log events as single lines (level, event name, message) to a writer: stderr for the CLI,
/// so results on stdout stay machine-readable.
/// </summary>
public sealed class TextWriterLoggerProvider(TextWriter writer) : ILoggerProvider
{
    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(writer);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(TextWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var level = logLevel switch
            {
                LogLevel.Critical => "crit",
                LogLevel.Error => "error",
                LogLevel.Warning => "warn",
                LogLevel.Information => "info",
                _ => "debug",
            };
            lock (writer)
            {
                writer.WriteLine($"{level}: [{eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}] {formatter(state, exception)}");
            }
        }
    }
}
