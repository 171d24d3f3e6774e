using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Platform;

/// <summary>
/// Makes file-system changes durable: fsync of files and of the directories whose entries changed.
/// A rename is only crash-safe once the directory holding it has been fsynced.
/// </summary>
public static class Durable
{
    /// <summary>The suffix of a file being written, before its atomic rename into place; a sweep may delete any such file.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Flushes a file's data and metadata to stable storage.</summary>
    public static void FsyncFile(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = (int)handle.DangerousGetHandle();
        if (NativeMethods.Fsync(fd) != 0)
        {
            throw new IOException($"fsync failed: {NativeMethods.LastErrorMessage(out _)}");
        }
    }

    /// <summary>Flushes a file, by path, to stable storage.</summary>
    public static void FsyncFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        FsyncFile(handle);
    }

    /// <summary>
    /// Flushes a directory's entries (creations, renames, deletions) to stable storage.
    /// .NET has no API for this, so it opens the directory with <c>open(2)</c> and calls <c>fsync(2)</c>.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = NativeMethods.Open(directory, NativeMethods.ORdOnly | NativeMethods.OCloExec, 0);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it: {NativeMethods.LastErrorMessage(out _)}");
        }

        try
        {
            if (NativeMethods.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed: {NativeMethods.LastErrorMessage(out _)}");
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    /// <summary>
    /// Writes bytes to a temporary file, fsyncs it, renames it into place and fsyncs the directory. On
    /// failure the temporary file is removed and the file in place, if any, is left as it was.
    /// </summary>
    public static void WriteFileAtomically(string tempPath, string finalPath, byte[] content)
    {
        WriteTemporary(tempPath, content, () => File.Move(tempPath, finalPath, overwrite: true));
        FsyncDirectory(Path.GetDirectoryName(finalPath)!);
    }

    /// <summary>
    /// Puts a written and fsynced file in place with its record, the file first, and makes both renames durable with one
    /// fsync of their directory: the record is written to a temporary file and fsynced before either rename. A crash
    /// before that last fsync can leave either rename without the other; whoever reads the directory afterwards takes a
    /// file without its record, or a record without its file, for this interrupted write.
    /// </summary>
    public static void PlaceWithRecord(string fileTemp, string filePath, string recordPath, byte[] record)
    {
        var recordTemp = recordPath + TempSuffix;
        WriteTemporary(recordTemp, record, () =>
        {
            File.Move(fileTemp, filePath, overwrite: true);
            File.Move(recordTemp, recordPath, overwrite: true);
        });
        FsyncDirectory(Path.GetDirectoryName(recordPath)!);
    }

    /// <summary>Writes and fsyncs <paramref name="tempPath"/>, then runs <paramref name="place"/>; on failure the temporary file is removed.</summary>
    private static void WriteTemporary(string tempPath, byte[] content, Action place)
    {
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            place();
        }
        catch
        {
            try
            {
                File.Delete(tempPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The next sweep removes it; the write's own error is the one to report.
            }

            throw;
        }
    }

    /// <summary>
    /// Creates a second name for a file (a hard link). Returns <see langword="false"/> when the two
    /// paths are on different file systems, where a link is impossible and a copy must be made.
    /// </summary>
    public static bool TryHardLink(string existingPath, string newPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (NativeMethods.Link(existingPath, newPath) == 0)
        {
            return true;
        }

        var message = NativeMethods.LastErrorMessage(out var errno);
        if (errno == NativeMethods.EXDev)
        {
            return false;
        }

        throw new IOException($"Cannot link '{existingPath}' to '{newPath}': {message}");
    }

    /// <summary>Copies a file to a new path and fsyncs the copy. Never use it on the live database (POSIX locks).</summary>
    public static void CopyFile(string source, string destination)
    {
        File.Copy(source, destination);
        FsyncFile(destination);
    }
}
