using System.Diagnostics;
using Emergence.Persistence.Backups;

namespace Emergence.Cli;

/// <summary>Draws a one-line progress display on a terminal, at most five times a second.</summary>
public sealed class TerminalProgress(TextWriter output) : IProgress<OperationProgress>, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch _sinceDraw = Stopwatch.StartNew();
    private string? _phase;
    private bool _drawn;

    /// <inheritdoc />
    public void Report(OperationProgress value)
    {
        if (value.Phase == _phase && _sinceDraw.Elapsed < Interval && value.Done < value.Total)
        {
            return;
        }

        _phase = value.Phase;
        _sinceDraw.Restart();
        var line = value.Total > 0
            ? $"{value.Phase,-16} {100.0 * value.Done / value.Total,5:0.0}%  {Format.Bytes(value.Done)} of {Format.Bytes(value.Total)}"
            : value.Phase;
        output.Write($"\r{line,-60}");
        _drawn = true;
    }

    /// <summary>Ends the progress line.</summary>
    public void Dispose()
    {
        if (_drawn)
        {
            output.Write('\r' + new string(' ', 60) + '\r');
        }
    }
}
