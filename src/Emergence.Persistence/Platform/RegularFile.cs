using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Platform;

/// <summary>
/// Opens files on the volume only when they are regular files. A FIFO blocks an ordinary open until a
/// writer appears, and a symbolic link to <c>/dev/zero</c> reads forever: either one placed where a
/// manifest, a record or a backup is expected would hang every command and the health check. Opens
/// here never follow a symbolic link, never block, and refuse anything but a regular file.
/// </summary>
public static class RegularFile
{
    /// <summary>The largest JSON record or manifest read: real ones are well under 4 KiB.</summary>
    public const int MaxRecordBytes = 64 * 1024;

    /// <summary>
    /// What is at <paramref name="path"/> when it is not a regular file, in words ("a FIFO", "a symbolic
    /// link", "a directory"…); <see langword="null"/> when it is a regular file or nothing is there.
    /// Symbolic links are not followed.
    /// </summary>
    public static string? NotRegular(string path)
    {
        var kind = NativeMethods.FileTypeOf(path, followLinks: false);
        return kind is FileType.Regular or FileType.Missing ? null : Describe(kind);
    }

    /// <summary>
    /// What is at the database path when it is neither a regular file (links followed: a database may be
    /// reached through one) nor missing, in words; <see langword="null"/> otherwise. SQLite would open a FIFO and
    /// then wait forever for its header.
    /// </summary>
    public static string? NotADatabaseFile(string path)
    {
        var kind = NativeMethods.FileTypeOf(path, followLinks: true);
        return kind is FileType.Regular or FileType.Missing ? null : Describe(kind);
    }

    /// <summary>A file's length (links followed), or 0 when there is none: for growing files such as a copy or a <c>-wal</c>.</summary>
    public static long LengthOrZero(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }

    /// <summary>Whether a regular file (not a link to one) is at <paramref name="path"/>.</summary>
    public static bool Exists(string path) => NativeMethods.FileTypeOf(path, followLinks: false) == FileType.Regular;

    /// <summary>Opens a regular file for reading without following a link and without blocking.</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="IOException">Something other than a regular file is there, or it cannot be opened.</exception>
    public static SafeFileHandle OpenRead(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        }

        var fd = NativeMethods.Open(path, NativeMethods.ORdOnly | NativeMethods.ONonBlock | NativeMethods.ONoFollow | NativeMethods.OCloExec, 0);
        if (fd < 0)
        {
            var message = NativeMethods.LastErrorMessage(out var errno);
            throw errno switch
            {
                NativeMethods.ENoEnt => new FileNotFoundException($"'{path}' does not exist.", path),
                NativeMethods.ELoop => new IOException($"'{path}' is a symbolic link, not a regular file; it is not followed."),
                _ => new IOException($"Cannot open '{path}': {message}"),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var kind = NativeMethods.FileTypeOf(handle);
        if (kind != FileType.Regular)
        {
            handle.Dispose();
            throw new IOException($"'{path}' is {Describe(kind)}, not a regular file.");
        }

        return handle;
    }

    /// <summary>Reads a small regular file (a manifest, a record) whole, refusing one larger than <paramref name="maxBytes"/>.</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="IOException">Not a regular file, too large, or unreadable.</exception>
    public static byte[] ReadSmall(string path, int maxBytes = MaxRecordBytes)
    {
        using var handle = OpenRead(path);
        var length = RandomAccess.GetLength(handle);
        if (length > maxBytes)
        {
            throw new IOException($"'{path}' is {length} bytes long, more than the {maxBytes} a record may have.");
        }

        var buffer = new byte[length];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(read), read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read == buffer.Length ? buffer : buffer[..read];
    }

    /// <summary>Fills <paramref name="buffer"/> from the file at <paramref name="offset"/>; <see langword="false"/> when the file ends first.</summary>
    public static bool TryReadAt(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = RandomAccess.Read(handle, buffer[read..], offset + read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    /// <summary>A file type in words, for messages.</summary>
    public static string Describe(FileType kind) => kind switch
    {
        FileType.Regular => "a regular file",
        FileType.Directory => "a directory",
        FileType.SymbolicLink => "a symbolic link",
        FileType.Fifo => "a FIFO (named pipe)",
        FileType.Socket => "a socket",
        FileType.CharacterDevice => "a character device",
        FileType.BlockDevice => "a block device",
        FileType.Missing => "missing",
        _ => "a special file",
    };
}

/// <summary>What kind of file-system object a path names.</summary>
public enum FileType
{
    /// <summary>Nothing is there.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link (not followed).</summary>
    SymbolicLink,

    /// <summary>A FIFO (named pipe).</summary>
    Fifo,

    /// <summary>A Unix socket.</summary>
    Socket,

    /// <summary>A character device such as <c>/dev/zero</c>.</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>Something else, or it could not be told.</summary>
    Unknown,
}
