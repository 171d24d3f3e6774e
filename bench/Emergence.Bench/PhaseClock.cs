using System.Diagnostics;
using Emergence.Persistence.Backups;

namespace Emergence.Bench;

/// <summary>Records when a backup enters each phase, from its progress reports (which come from several threads).</summary>
public sealed class PhaseClock : IProgress<OperationProgress>
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Dictionary<string, double> _entered = [];

    /// <summary>Seconds since the clock was made.</summary>
    public double Elapsed => _watch.Elapsed.TotalSeconds;

    public void Report(OperationProgress value)
    {
        lock (_entered)
        {
            _entered.TryAdd(value.Phase, _watch.Elapsed.TotalSeconds);
        }
    }

    /// <summary>Seconds from the clock's start to the first report of <paramref name="phase"/>.</summary>
    public double At(string phase)
    {
        lock (_entered)
        {
            return _entered[phase];
        }
    }

    /// <summary>Seconds between the first reports of two phases.</summary>
    public double Between(string from, string to) => At(to) - At(from);
}
