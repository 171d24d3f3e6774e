using System.Diagnostics;
using Emergence.Persistence.Backups;

namespace Emergence.Bench;

/// <summary>Records when a backup enters each phase, from its progress reports.</summary>
public sealed class PhaseClock : IProgress<OperationProgress>
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Dictionary<string, double> _entered = [];

    public void Report(OperationProgress value) => _entered.TryAdd(value.Phase, _watch.Elapsed.TotalSeconds);

    public double Between(string from, string to) => _entered[to] - _entered[from];
}
