using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Metrics;

namespace Emergence.Bench;

/// <summary>
/// Records the replicator's spans (<see cref="PersistenceActivities"/>) while it is alive, and says which of them the
/// writer's slow commits started in: the way to tell what part of replication costs the writer's p99.
/// </summary>
internal sealed class ReplicatorSpans : IDisposable
{
    private readonly ConcurrentQueue<(string Name, long Start, long End)> _spans = new();
    private readonly ConcurrentDictionary<string, int> _ended = new(StringComparer.Ordinal);
    private readonly ActivityListener _listener;

    public ReplicatorSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PersistenceActivities.SourceName,
            Sample = (ref _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                var end = Stopwatch.GetTimestamp();
                _spans.Enqueue((activity.OperationName, end - (long)(activity.Duration.TotalSeconds * Stopwatch.Frequency), end));
                _ended.AddOrUpdate(activity.OperationName, 1, (_, count) => count + 1);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>How many spans named <paramref name="name"/> have ended since this listener began (<see cref="Clear"/> does not reset it).</summary>
    public int Ended(string name) => _ended.GetValueOrDefault(name);

    /// <summary>Forgets the spans recorded so far: the report covers only what ends after this.</summary>
    public void Clear() => _spans.Clear();

    /// <summary>
    /// For the commits with replication on (<paramref name="starts"/>, Stopwatch timestamps, and their latencies): how
    /// many started inside each kind of span, how many of those were slower than <paramref name="slow"/> milliseconds,
    /// and how many more than the commits that started outside every span would make at the same rate.
    /// </summary>
    public void Report(IReadOnlyList<long> starts, IReadOnlyList<double> latencies, double slow, Action<string> line, CultureInfo inv)
    {
        var spans = _spans.ToArray();
        var names = spans.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        var inside = names.ToDictionary(n => n, _ => (Commits: 0, Slow: 0), StringComparer.Ordinal);
        var outside = (Commits: 0, Slow: 0);
        var byStart = spans.OrderBy(s => s.Start).ToArray();
        for (var i = 0; i < starts.Count; i++)
        {
            var isSlow = latencies[i] > slow ? 1 : 0;
            var found = false;
            foreach (var name in byStart.TakeWhile(s => s.Start <= starts[i]).Where(s => s.End >= starts[i]).Select(s => s.Name).Distinct())
            {
                var (commits, slowOnes) = inside[name];
                inside[name] = (commits + 1, slowOnes + isSlow);
                found = true;
            }

            if (!found)
            {
                outside = (outside.Commits + 1, outside.Slow + isSlow);
            }
        }

        var rate = outside.Commits == 0 ? 0 : outside.Slow / (double)outside.Commits;
        var allSlow = latencies.Count(l => l > slow);
        line(string.Create(inv, $"What the replicator was doing when each commit with replication on started, by its spans (`{PersistenceActivities.SourceName}`; a span inside another counts in both): {allSlow} of {latencies.Count} commits were slower than the p99 with replication off ({slow:0.00} ms)."));
        line("");
        line("| span | spans | time in them | commits started inside | slower than off p99 | share | more than outside every span |");
        line("|---|---|---|---|---|---|---|");
        foreach (var name in names)
        {
            var of = spans.Where(s => s.Name == name).ToList();
            var seconds = of.Sum(s => (s.End - s.Start) / (double)Stopwatch.Frequency);
            var (commits, slowOnes) = inside[name];
            var share = commits == 0 ? 0 : slowOnes / (double)commits;
            line(string.Create(inv, $"| `{name}` | {of.Count} | {seconds:0.000} s | {commits} | {slowOnes} | {share:P1} | {slowOnes - (commits * rate):+0.0;-0.0;0} |"));
        }

        line(string.Create(inv, $"| outside every span | | | {outside.Commits} | {outside.Slow} | {rate:P1} | |"));
        line("");
    }
}
