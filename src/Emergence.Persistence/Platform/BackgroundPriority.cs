namespace Emergence.Persistence.Platform;

/// <summary>
/// Runs background work (a backup's copy, hash and integrity check) on a dedicated thread whose CPU
/// priority is lowered (Linux <c>nice</c>, per thread), so that it yields the CPU to the app's own
/// requests and writes and uses it fully when they are idle. A dedicated thread, not a pool thread,
/// because an unprivileged thread cannot raise its priority back: the thread ends with the work.
/// </summary>
internal static class BackgroundPriority
{
    /// <summary>The nice value background work runs at: well below the app (0), above truly idle work (19).</summary>
    internal const int Nice = 10;

    /// <summary>Runs <paramref name="work"/> on a new low-priority thread; the task completes with its result or exception.</summary>
    public static Task<T> Run<T>(Func<T> work, string name)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower();
            try
            {
                completion.SetResult(work());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return completion.Task;
    }

    /// <summary>Runs <paramref name="work"/> on a new low-priority thread.</summary>
    public static Task Run(Action work, string name) => Run(() =>
    {
        work();
        return true;
    }, name);

    /// <summary>Lowers the calling thread's nice value to <see cref="Nice"/> unless it is already lower; best effort.</summary>
    private static void Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var thread = (uint)NativeMethods.GetThreadId();
        if (NativeMethods.GetPriority(NativeMethods.PrioProcess, thread) < Nice)
        {
            // Lowering needs no privilege; if it is refused all the same, the work runs at normal priority.
            _ = NativeMethods.SetPriority(NativeMethods.PrioProcess, thread, Nice);
        }
    }
}
