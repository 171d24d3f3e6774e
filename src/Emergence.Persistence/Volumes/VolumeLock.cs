using System.Diagnostics;
using System.Globalization;
using System.Text;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Volumes;

/// <summary>
/// An exclusive <c>flock(2)</c> on a lock file, held until disposed. On Railway an old container can
/// still be shutting down when the new one boots on the same volume; the lock makes the new one
/// wait instead of writing the same database at once. The kernel releases it when the process
/// dies, even on <c>kill -9</c>.
/// </summary>
public sealed class VolumeLock : IDisposable
{
    /// <summary>The lock file's name in the database directory.</summary>
    public const string FileName = ".emergence.lock";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private readonly SafeFileHandle _handle;

    private VolumeLock(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>The lock file held.</summary>
    public string Path { get; }

    /// <summary>Whether the lock is still held by this object.</summary>
    public bool IsHeld => !_handle.IsClosed;

    /// <summary>
    /// Takes the lock on <paramref name="lockPath"/>, waiting up to <paramref name="timeout"/> while
    /// another process holds it and logging who that is.
    /// </summary>
    /// <remarks>
    /// The wait and its bound run on the real clock, not on <paramref name="time"/> (which only stamps
    /// the holder's text): the lock is released by other processes in real time. A lock can also look
    /// held for an instant while a child process started elsewhere in this process is between fork and
    /// exec (it shares the open file description); polling rides that out.
    /// </remarks>
    /// <exception cref="VolumeLockTimeoutException">The lock was not free within the timeout.</exception>
    public static Task<VolumeLock> AcquireAsync(string lockPath, TimeSpan timeout, ILogger logger, TimeProvider time, CancellationToken cancellationToken = default) =>
        AcquireAsync(lockPath, timeout, logger, time, waiting: null, cancellationToken);

    /// <summary>
    /// Takes the lock as <see cref="AcquireAsync(string, TimeSpan, ILogger, TimeProvider, CancellationToken)"/>
    /// does, telling <paramref name="waiting"/> who holds it whenever that changes while it waits
    /// (so a health check can name the holder).
    /// </summary>
    /// <exception cref="VolumeLockTimeoutException">The lock was not free within the timeout.</exception>
    public static async Task<VolumeLock> AcquireAsync(string lockPath, TimeSpan timeout, ILogger logger, TimeProvider time, Action<string>? waiting, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        var warned = false;
        string? reported = null;
        while (true)
        {
            var acquired = TryAcquire(lockPath, time, out var holder);
            if (acquired is not null)
            {
                if (warned)
                {
                    var waitedSeconds = clock.GetElapsedTime(started).TotalSeconds;
                    PersistenceLog.LockAcquiredAfterWait(logger, lockPath, waitedSeconds);
                }

                return acquired;
            }

            var waited = clock.GetElapsedTime(started);
            if (waited >= timeout)
            {
                throw new VolumeLockTimeoutException(lockPath, holder, timeout);
            }

            if (!warned)
            {
                PersistenceLog.LockWaiting(logger, lockPath, holder ?? "unknown", timeout.TotalSeconds);
                warned = true;
            }

            if (waiting is not null && (holder ?? "unknown") != reported)
            {
                reported = holder ?? "unknown";
                waiting(reported);
            }

            await Task.Delay(PollInterval, clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the lock if it is free, without waiting. Returns <see langword="null"/> and describes the
    /// holder when another process holds it.
    /// </summary>
    public static VolumeLock? TryAcquire(string lockPath, TimeProvider time, out string? holder)
    {
        ArgumentException.ThrowIfNullOrEmpty(lockPath);
        ArgumentNullException.ThrowIfNull(time);
        var fd = NativeMethods.Open(lockPath, NativeMethods.ORdWr | NativeMethods.OCreat | NativeMethods.OCloExec, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new IOException($"Cannot open the lock file '{lockPath}': {NativeMethods.LastErrorMessage(out _)}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        int result;
        int errno;
        do
        {
            result = NativeMethods.Flock(fd, NativeMethods.LockEx | NativeMethods.LockNb);
            errno = result == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        }
        while (result != 0 && errno == NativeMethods.EIntr);

        if (result != 0)
        {
            using (handle)
            {
                if (errno != NativeMethods.EWouldBlock)
                {
                    throw new IOException($"flock on '{lockPath}' failed: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
                }

                holder = ReadHolder(handle);
                return null;
            }
        }

        holder = null;
        WriteHolder(handle, time.GetUtcNow());
        return new VolumeLock(lockPath, handle);
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _handle.Dispose();

    private static void WriteHolder(SafeFileHandle handle, DateTimeOffset now)
    {
        // Best effort: the lock is the flock, the text only tells a waiting process who holds it.
        var text = string.Create(CultureInfo.InvariantCulture,
            $"pid {Environment.ProcessId} on {Environment.MachineName} ({Process.GetCurrentProcess().ProcessName}) since {UtcSecondsConverter.Format(now)}\n");
        try
        {
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, Encoding.UTF8.GetBytes(text), 0);
        }
        catch (IOException)
        {
            // A full disk must not stop the lock from being taken.
        }
    }

    private static string? ReadHolder(SafeFileHandle handle)
    {
        // Read through the descriptor already open: File.ReadAllText would take .NET's own shared
        // flock, which the holder's exclusive lock refuses.
        try
        {
            var buffer = new byte[512];
            var read = RandomAccess.Read(handle, buffer, 0);
            var text = Encoding.UTF8.GetString(buffer, 0, read).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
