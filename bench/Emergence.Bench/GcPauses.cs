using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Emergence.Bench;

/// <summary>
/// Records the runtime's garbage-collection pauses (from its own events: the threads suspended until they are
/// restarted) as <see cref="Stopwatch"/> intervals, and says how many of a writer's commits, and of its slow ones,
/// ran while every managed thread of the process was stopped. The app's writer shares the process with the
/// replicator, so a pause the replicator's allocations cause stops the writer's commit too.
/// </summary>
internal sealed class GcPauses : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;

    private readonly ConcurrentQueue<(long Start, long End)> _pauses = new();
    private readonly long _stopwatchAtStart = Stopwatch.GetTimestamp();
    private readonly DateTime _utcAtStart = DateTime.UtcNow;
    private long _suspended = -1;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // Events arrive on the listener's own thread, after the fact; their stamps say when they happened.
        var at = _stopwatchAtStart + (long)((eventData.TimeStamp.ToUniversalTime() - _utcAtStart).TotalSeconds * Stopwatch.Frequency);
        switch (eventData.EventName)
        {
            case "GCSuspendEEBegin_V1":
                _suspended = at;
                break;
            case "GCRestartEEEnd_V1" when _suspended >= 0:
                _pauses.Enqueue((_suspended, at));
                _suspended = -1;
                break;
        }
    }

    /// <summary>The pauses recorded so far.</summary>
    public (long Start, long End)[] Pauses => [.. _pauses.OrderBy(p => p.Start)];

    /// <summary>
    /// For one side's trials (Stopwatch intervals) and commits (Stopwatch starts and latencies in milliseconds): the
    /// pauses in those trials and their time, how many commits ran while the process was paused, how many of those
    /// were slower than <paramref name="slow"/>, and the share of slow commits among the rest.
    /// </summary>
    public string Describe(string side, IReadOnlyList<(long Start, long End)> trials, IReadOnlyList<long> starts, IReadOnlyList<double> latencies, double slow, CultureInfo inv)
    {
        var pauses = Pauses;
        var (during, slowDuring, rest, slowRest) = (0, 0, 0, 0);
        for (var i = 0; i < starts.Count; i++)
        {
            var end = starts[i] + (long)(latencies[i] / 1000 * Stopwatch.Frequency);
            var overlaps = pauses.Any(p => p.Start < end && p.End > starts[i]);
            var isSlow = latencies[i] > slow ? 1 : 0;
            (during, slowDuring, rest, slowRest) = overlaps
                ? (during + 1, slowDuring + isSlow, rest, slowRest)
                : (during, slowDuring, rest + 1, slowRest + isSlow);
        }

        var inRange = pauses.Where(p => trials.Any(t => p.Start < t.End && p.End > t.Start)).ToList();
        var pausedMs = inRange.Sum(p => (p.End - p.Start) * 1000.0 / Stopwatch.Frequency);
        return string.Create(inv, $"| {side} | {inRange.Count} | {pausedMs:0.0} ms | {during} | {slowDuring} | {slowRest} of {rest} ({(rest == 0 ? 0 : slowRest / (double)rest):P1}) |");
    }
}
