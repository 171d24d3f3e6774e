using System.Globalization;

namespace Emergence.Bench;

/// <summary>
/// The process's processor time by thread name, per kind of trial: a sampler reads every thread's scheduler counters
/// (<c>/proc/self/task/*/schedstat</c>: time on a processor, time runnable but waiting for one) every
/// <see cref="Interval"/> and at each change of trial, and adds what each thread used since the last reading to the
/// kind of trial running then. A thread that ends loses what it used after its last reading (at most one interval).
/// Where <c>/proc</c> cannot be read, nothing is recorded. The writer shares two processors with every thread listed.
/// </summary>
internal sealed class ThreadTimes : IDisposable
{
    /// <summary>How often the counters are read between changes of trial.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly Dictionary<int, (string Name, long OnCpu, long Waiting)> _last = [];
    private readonly Dictionary<(int Kind, string Name), (long OnCpu, long Waiting)> _totals = [];
    private readonly Thread _sampler;
    private readonly CancellationTokenSource _stop = new();
    private int _kind = -1;

    public ThreadTimes()
    {
        _sampler = new Thread(() =>
        {
            while (!_stop.Token.WaitHandle.WaitOne(Interval))
            {
                Sample(null);
            }
        })
        {
            IsBackground = true,
            Name = "thread times",
        };
        _sampler.Start();
    }

    /// <summary>Reads every thread's counters, adding what they used to the trial that ends, then counts from here for <paramref name="kind"/> (-1: between trials, not counted).</summary>
    public void Begin(int kind) => Sample(kind);

    /// <summary>
    /// A table: per thread name (a name shared by several threads summed), milliseconds on a processor per second of
    /// each kind of trial, and the same for waiting for one; <paramref name="kinds"/> names the kinds in order, with the
    /// seconds spent in each.
    /// </summary>
    public IEnumerable<string> Describe(IReadOnlyList<(string Name, double Seconds)> kinds, CultureInfo inv)
    {
        Dictionary<(int Kind, string Name), (long OnCpu, long Waiting)> totals;
        lock (_lock)
        {
            totals = new(_totals);
        }

        var names = totals.Keys.Where(k => k.Kind >= 0).Select(k => k.Name).Distinct()
            .OrderByDescending(n => Enumerable.Range(0, kinds.Count).Sum(k => totals.GetValueOrDefault((k, n)).OnCpu))
            .ToList();
        yield return "| thread | " + string.Join(" | ", kinds.Select(k => $"{k.Name}: on a processor, waiting (ms/s)")) + " |";
        yield return "|---|" + string.Concat(kinds.Select(_ => "---|"));
        foreach (var name in names)
        {
            var cells = Enumerable.Range(0, kinds.Count).Select(k =>
            {
                var (onCpu, waiting) = totals.GetValueOrDefault((k, name));
                var seconds = Math.Max(kinds[k].Seconds, 1e-9);
                return string.Create(inv, $"{onCpu / 1e6 / seconds:0.0}, {waiting / 1e6 / seconds:0.0}");
            });
            yield return $"| `{name}` | " + string.Join(" | ", cells) + " |";
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sampler.Join();
        _stop.Dispose();
    }

    private void Sample(int? next)
    {
        lock (_lock)
        {
            foreach (var (tid, name, onCpu, waiting) in ReadAll())
            {
                var (_, lastOn, lastWaiting) = _last.GetValueOrDefault(tid, (name, 0, 0));
                if (onCpu < lastOn || waiting < lastWaiting)
                {
                    (lastOn, lastWaiting) = (0, 0); // the id was taken by a new thread since the last reading
                }

                _last[tid] = (name, onCpu, waiting);
                if (_kind >= 0)
                {
                    var (sumOn, sumWaiting) = _totals.GetValueOrDefault((_kind, name));
                    _totals[(_kind, name)] = (sumOn + onCpu - lastOn, sumWaiting + waiting - lastWaiting);
                }
            }

            if (next is { } kind)
            {
                _kind = kind;
            }
        }
    }

    private static IEnumerable<(int Tid, string Name, long OnCpu, long Waiting)> ReadAll()
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories("/proc/self/task");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var task in tasks)
        {
            (int, string, long, long)? read = null;
            try
            {
                var times = CommitTimes.Parse(File.ReadAllText(Path.Combine(task, "schedstat")));
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                if (times is var (onCpu, waiting)
                    && int.TryParse(Path.GetFileName(task), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tid))
                {
                    read = (tid, name, onCpu, waiting);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The thread ended between the listing and the read.
            }

            if (read is { } one)
            {
                yield return one;
            }
        }
    }
}
