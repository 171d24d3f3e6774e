using System.Runtime.InteropServices;

namespace Emergence.Persistence.Platform;

/// <summary>
/// Work the app's own threads go before: run on a thread of its own whose scheduling priority is lowered (nice 10), so
/// that on a busy core the scheduler runs the app's writer first when it wakes. The thread ends with the work, so the
/// lowered priority never reaches a thread that runs anything else (raising it back needs a privilege an app may not have).
/// </summary>
public static class BackgroundThread
{
    /// <summary>The niceness given to the thread: 0 is the default, 19 the lowest priority.</summary>
    public const int Niceness = 10;

    /// <summary>Starts <paramref name="work"/> on a new background thread named <paramref name="name"/>; the task ends with it.</summary>
    public static Task Run(string name, Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            // Best effort: where the call is refused, the work runs at the default priority.
            _ = NativeMethods.SetPriority(NativeMethods.PrioProcess, NativeMethods.GetThreadId(), Niceness);
            try
            {
                work();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>The calling thread's niceness (for tests), or <see langword="null"/> when it cannot be read.</summary>
    public static int? CurrentNiceness()
    {
        Marshal.SetLastPInvokeError(0);
        var value = NativeMethods.GetPriority(NativeMethods.PrioProcess, NativeMethods.GetThreadId());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }
}
