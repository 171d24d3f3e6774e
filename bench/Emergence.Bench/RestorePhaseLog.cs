using System.Diagnostics;
using Emergence.Persistence.Backups;

namespace Emergence.Bench;

/// <summary>When a restore entered each phase, from its progress reports (the checksum's come from another thread).</summary>
internal sealed class RestorePhaseLog : IProgress<OperationProgress>
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly List<(string Phase, double At)> _entered = [];

    public void Report(OperationProgress value)
    {
        lock (_entered)
        {
            if (_entered.Count == 0 || _entered[^1].Phase != value.Phase)
            {
                _entered.Add((value.Phase, Stopwatch.GetElapsedTime(_started).TotalSeconds));
            }
        }
    }

    /// <summary>Seconds in each phase, to the next phase or the end (<paramref name="total"/>); <c>refuse</c> is the time before the first.</summary>
    public Dictionary<string, double> Durations(double total)
    {
        lock (_entered)
        {
            var durations = new Dictionary<string, double> { ["refuse"] = _entered.Count > 0 ? _entered[0].At : total };
            for (var i = 0; i < _entered.Count; i++)
            {
                var until = i + 1 < _entered.Count ? _entered[i + 1].At : total;
                durations[_entered[i].Phase] = durations.GetValueOrDefault(_entered[i].Phase) + (until - _entered[i].At);
            }

            return durations;
        }
    }
}
