using System.Runtime.InteropServices;

namespace Emergence.Persistence.Platform;

/// <summary>
/// The few libc calls .NET has no API for: directory fsync, <c>flock</c>, hard links, the process
/// identity and a file's owner. Linux only, which is where the app runs.
/// </summary>
internal static partial class NativeMethods
{
    private const string Libc = "libc";

    internal const int ORdOnly = 0;
    internal const int ORdWr = 2;
    internal const int OCreat = 0x40;
    internal const int OCloExec = 0x80000;

    internal const int LockEx = 2;
    internal const int LockNb = 4;

    internal const int EWouldBlock = 11;
    internal const int EXDev = 18;
    internal const int EIntr = 4;

    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(int fd, int operation);

    [LibraryImport(Libc, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Link(string oldPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    internal static partial uint GetEffectiveGroupId();

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>Returns the owner uid and gid of a path, or <see langword="null"/> when it cannot be read.</summary>
    /// <remarks><c>struct statx</c> has the same layout on every Linux architecture, unlike <c>struct stat</c>.</remarks>
    internal static unsafe (uint Uid, uint Gid)? GetOwner(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            return null;
        }

        return (*(uint*)(buffer + 20), *(uint*)(buffer + 24));
    }

    /// <summary>Describes the last OS error of a P/Invoke call, e.g. "Permission denied (errno 13)".</summary>
    internal static string LastErrorMessage(out int errno)
    {
        errno = Marshal.GetLastPInvokeError();
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }
}
