using System.Runtime.InteropServices;

namespace Emergence.Persistence.Platform;

/// <summary>
/// The few libc calls .NET has no API for: directory fsync, <c>flock</c>, hard links, the process
/// identity, a file's owner and a thread's scheduling priority. Linux only, which is where the app runs.
/// </summary>
internal static partial class NativeMethods
{
    private const string Libc = "libc";

    internal const int ORdOnly = 0;
    internal const int ORdWr = 2;
    internal const int OCreat = 0x40;
    internal const int OCloExec = 0x80000;
    internal const int ONonBlock = 0x800;
    internal const int ONoFollow = 0x20000;

    internal const int LockEx = 2;
    internal const int LockNb = 4;

    internal const int EWouldBlock = 11;
    internal const int EXDev = 18;
    internal const int EIntr = 4;
    internal const int ENoEnt = 2;
    internal const int ELoop = 40;

    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const int StatxModeOffset = 28;

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

    /// <summary><c>setpriority</c>'s <c>which</c> for one process or, given a thread id, one thread.</summary>
    internal const int PrioProcess = 0;

    [LibraryImport(Libc, EntryPoint = "gettid")]
    internal static partial int GetThreadId();

    [LibraryImport(Libc, EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, int who, int priority);

    [LibraryImport(Libc, EntryPoint = "getpriority", SetLastError = true)]
    internal static partial int GetPriority(int which, int who);

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

    /// <summary>The inode number of a path (links followed), or <see langword="null"/> when it cannot be read: a file replaced by a rename has another.</summary>
    internal static unsafe ulong? InodeOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = stackalloc byte[256];
        return Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0 ? null : *(ulong*)(buffer + 32);
    }

    /// <summary>The device (file system) a path is on, as major and minor number, or <see langword="null"/> when it cannot be read.</summary>
    internal static unsafe (uint Major, uint Minor)? DeviceOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = stackalloc byte[256];
        return Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0 ? null : (*(uint*)(buffer + 136), *(uint*)(buffer + 140));
    }

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxFd(int dirFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The type of what a path names; symbolic links are followed only with <paramref name="followLinks"/>.</summary>
    internal static unsafe FileType FileTypeOf(string path, bool followLinks)
    {
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path) ? FileType.Regular : Directory.Exists(path) ? FileType.Directory : FileType.Missing;
        }

        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            return Marshal.GetLastPInvokeError() == ENoEnt ? FileType.Missing : FileType.Unknown;
        }

        return TypeFromMode(*(ushort*)(buffer + StatxModeOffset));
    }

    /// <summary>The type of an open file.</summary>
    internal static unsafe FileType FileTypeOf(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var buffer = stackalloc byte[256];
        var fd = (int)handle.DangerousGetHandle();
        return StatxFd(fd, "", AtEmptyPath, StatxBasicStats, buffer) != 0 ? FileType.Unknown : TypeFromMode(*(ushort*)(buffer + StatxModeOffset));
    }

    private static FileType TypeFromMode(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => FileType.Regular,
        0x4000 => FileType.Directory,
        0xA000 => FileType.SymbolicLink,
        0x1000 => FileType.Fifo,
        0xC000 => FileType.Socket,
        0x2000 => FileType.CharacterDevice,
        0x6000 => FileType.BlockDevice,
        _ => FileType.Unknown,
    };

    /// <summary>Describes the last OS error of a P/Invoke call, e.g. "Permission denied (errno 13)".</summary>
    internal static string LastErrorMessage(out int errno)
    {
        errno = Marshal.GetLastPInvokeError();
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }
}
