using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Database;

/// <summary>
/// How the app's connections wait for a lock another connection holds: in steps of 50 µs for the first millisecond,
/// then as SQLite's own busy handler does (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms, then 100 ms each), until
/// the busy timeout. SQLite's handler sleeps a whole millisecond before its first try again, so a commit that met a
/// lock held for a fraction of that (the replicator's checkpoint holds writers for 0.05 to 1 ms) waited the whole
/// millisecond, and more once the first sleep ended with the lock still held.
/// </summary>
internal static unsafe partial class BusyWait
{
    /// <summary>The length of the first, short steps.</summary>
    internal const int StepMicroseconds = 50;

    /// <summary>How many short steps there are before SQLite's own schedule.</summary>
    internal const int Steps = 1000 / StepMicroseconds;

    private static readonly int[] Delays = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

    private static long _waits;

    /// <summary>How many times, in all, a connection of this process has waited for a lock (for tests).</summary>
    internal static long Waits => Interlocked.Read(ref _waits);

    /// <summary>Makes <paramref name="connection"/> wait this way for up to <paramref name="timeout"/> (in place of <c>PRAGMA busy_timeout</c>).</summary>
    /// <exception cref="SqliteException">SQLite refused the handler.</exception>
    public static void Install(SqliteConnection connection, TimeSpan timeout)
    {
        var handle = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var milliseconds = (nint)Math.Clamp((long)timeout.TotalMilliseconds, 0, int.MaxValue);
        var rc = SetHandler(handle.DangerousGetHandle(), &OnBusy, milliseconds);
        if (rc != SQLitePCL.raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, handle);
        }
    }

    /// <summary>How long the wait before try <paramref name="count"/> + 1 is (SQLite counts its tries again from 0 for each lock it waits for).</summary>
    internal static long DelayMicroseconds(int count) =>
        count < Steps ? StepMicroseconds : 1000L * Delays[Math.Min(count - Steps, Delays.Length - 1)];

    /// <summary>How long the waits before the first <paramref name="count"/> tries again took in all, as scheduled.</summary>
    internal static long WaitedMicroseconds(int count)
    {
        var waited = 0L;
        for (var i = 0; i < count; i++)
        {
            waited += DelayMicroseconds(i);
        }

        return waited;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnBusy(nint timeoutMilliseconds, int count)
    {
        // As in SQLite's own handler, the time waited is counted by the schedule, not read from a clock.
        var (waited, limit) = (WaitedMicroseconds(count), 1000L * timeoutMilliseconds);
        if (waited >= limit)
        {
            return 0; // SQLITE_BUSY to the statement
        }

        Interlocked.Increment(ref _waits);
        _ = Sleep((uint)Math.Min(DelayMicroseconds(count), limit - waited));
        return 1;
    }

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_busy_handler")]
    private static partial int SetHandler(nint db, delegate* unmanaged[Cdecl]<nint, int, int> handler, nint argument);

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int Sleep(uint microseconds);
}
