using System.Text.RegularExpressions;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// What a container printed (the host's console, which on Railway is the service's log), line by
/// line as it arrives, with a way to wait for a line.
/// </summary>
public sealed class ConsoleOutput
{
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(string line)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _lines.Add(line);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string Text => string.Join('\n', Lines);

    /// <summary>The last lines, to show with a failed assertion.</summary>
    public string Tail(int count = 60) => string.Join('\n', Lines.TakeLast(count));

    /// <summary>
    /// The lines the worker wrote for a log event, as relayed by the host: <c>level Name[id] category: message</c>.
    /// </summary>
    public IReadOnlyList<string> Events(string name) =>
        Lines.Where(line => Regex.IsMatch(line, $@"^\s*(trace|debug|information|warning|error|critical) {Regex.Escape(name)}\[\d+\] ")).ToList();

    /// <summary>Waits until a line matches, or fails with the output so far.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (match(_lines[seen]))
                    {
                        return _lines[seen];
                    }
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"Waited {timeout.TotalSeconds:0} s for {what}; the console said:\n{Tail()}");
            }

            await Task.WhenAny(changed, Task.Delay(left)).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for a log event by name.</summary>
    public Task<string> WaitForEventAsync(string name, TimeSpan timeout) =>
        WaitForAsync(line => Regex.IsMatch(line, $@"^\s*\w+ {Regex.Escape(name)}\[\d+\] "), timeout, $"the {name} event");
}
