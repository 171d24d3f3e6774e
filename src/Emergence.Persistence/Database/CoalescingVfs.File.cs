using System.Runtime.InteropServices;

namespace Emergence.Persistence.Database;

/// <summary>
/// A file opened through the VFS: its I/O methods, each of which writes the gathered bytes before it passes the call
/// to the platform's file, the gathering itself (<see cref="Write"/>, <see cref="Flush"/>), and the native layouts.
/// </summary>
public static unsafe partial class CoalescingVfs
{
    private static IoFile* Inner(FileHeader* file) => (IoFile*)((byte*)file + sizeof(FileHeader));

    private static IoMethods* InnerMethods(FileHeader* file) => Inner(file)->Methods;

    /// <summary>
    /// Writes the gathered bytes. A failure sticks: the bytes are gone from the buffer, so every later call
    /// on the file returns the same error rather than let SQLite go on as if they had been written.
    /// </summary>
    private static int Flush(FileHeader* file)
    {
        if (file->Error != Ok || file->Length == 0)
        {
            return file->Error;
        }

        var length = file->Length;
        file->Length = 0;
        file->Error = InnerMethods(file)->Write(Inner(file), file->Buffer, length, file->Start);
        if (file->Writes > 1)
        {
            Interlocked.Increment(ref s_gatheredWrites);
        }

        file->Writes = 0;
        return file->Error;
    }

    [UnmanagedCallersOnly]
    private static int Close(void* opened)
    {
        var file = (FileHeader*)opened;
        var flushed = Flush(file);
        var closed = InnerMethods(file)->Close(Inner(file));
        if (file->Buffer != null)
        {
            NativeMemory.Free(file->Buffer);
            file->Buffer = null;
        }

        return flushed != Ok ? flushed : closed;
    }

    [UnmanagedCallersOnly]
    private static int Write(void* opened, byte* data, int amount, long offset)
    {
        var file = (FileHeader*)opened;
        if (file->Error != Ok)
        {
            return file->Error;
        }

        if (file->Buffer == null || amount > ChunkBytes)
        {
            var rc = Flush(file);
            return rc != Ok ? rc : InnerMethods(file)->Write(Inner(file), data, amount, offset);
        }

        if (file->Length == 0 || offset != file->Start + file->Length || file->Length + amount > ChunkBytes)
        {
            var rc = Flush(file);
            if (rc != Ok)
            {
                return rc;
            }

            file->Start = offset;
        }

        Buffer.MemoryCopy(data, file->Buffer + file->Length, ChunkBytes - file->Length, amount);
        file->Length += amount;
        file->Writes++;

        // Written when it ends on a chunk boundary, so that the writes stay aligned to the chunk size.
        return (file->Start + file->Length) % ChunkBytes == 0 ? Flush(file) : Ok;
    }

    [UnmanagedCallersOnly]
    private static int Read(void* opened, byte* data, int amount, long offset)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->Read(Inner(file), data, amount, offset);
    }

    [UnmanagedCallersOnly]
    private static int Truncate(void* opened, long size)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->Truncate(Inner(file), size);
    }

    [UnmanagedCallersOnly]
    private static int Sync(void* opened, int flags)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->Sync(Inner(file), flags);
    }

    [UnmanagedCallersOnly]
    private static int FileSize(void* opened, long* size)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->FileSize(Inner(file), size);
    }

    [UnmanagedCallersOnly]
    private static int LockFile(void* opened, int level)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->Lock(Inner(file), level);
    }

    [UnmanagedCallersOnly]
    private static int Unlock(void* opened, int level)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        var unlocked = InnerMethods(file)->Unlock(Inner(file), level);
        return rc != Ok ? rc : unlocked;
    }

    [UnmanagedCallersOnly]
    private static int CheckReservedLock(void* opened, int* result) =>
        InnerMethods((FileHeader*)opened)->CheckReservedLock(Inner((FileHeader*)opened), result);

    [UnmanagedCallersOnly]
    private static int FileControl(void* opened, int op, void* argument)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->FileControl(Inner(file), op, argument);
    }

    [UnmanagedCallersOnly]
    private static int SectorSize(void* opened) => InnerMethods((FileHeader*)opened)->SectorSize(Inner((FileHeader*)opened));

    [UnmanagedCallersOnly]
    private static int DeviceCharacteristics(void* opened) => InnerMethods((FileHeader*)opened)->DeviceCharacteristics(Inner((FileHeader*)opened));

    [UnmanagedCallersOnly]
    private static int ShmMap(void* opened, int page, int pageSize, int extend, void** mapped)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->ShmMap(Inner(file), page, pageSize, extend, mapped);
    }

    [UnmanagedCallersOnly]
    private static int ShmLock(void* opened, int offset, int count, int flags)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->ShmLock(Inner(file), offset, count, flags);
    }

    [UnmanagedCallersOnly]
    private static void ShmBarrier(void* opened)
    {
        var file = (FileHeader*)opened;
        _ = Flush(file);
        InnerMethods(file)->ShmBarrier(Inner(file));
    }

    [UnmanagedCallersOnly]
    private static int ShmUnmap(void* opened, int delete)
    {
        var file = (FileHeader*)opened;
        var rc = Flush(file);
        return rc != Ok ? rc : InnerMethods(file)->ShmUnmap(Inner(file), delete);
    }

    /// <summary>Our part of a file: SQLite's <c>sqlite3_file</c> (its methods) and the gathered bytes; the platform's file follows it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct FileHeader
    {
        public IoMethods* Methods;
        public byte* Buffer;
        public long Start;
        public int Length;
        public int Error;
        public int Writes;
        private readonly int _padding;
    }

    /// <summary>SQLite's <c>sqlite3_file</c>: a pointer to its methods, then the VFS's own fields.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoFile
    {
        public IoMethods* Methods;
    }

    /// <summary>SQLite's <c>sqlite3_io_methods</c>, up to version 2.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct IoMethods
    {
        public int Version;
        public delegate* unmanaged<void*, int> Close;
        public delegate* unmanaged<void*, byte*, int, long, int> Read;
        public delegate* unmanaged<void*, byte*, int, long, int> Write;
        public delegate* unmanaged<void*, long, int> Truncate;
        public delegate* unmanaged<void*, int, int> Sync;
        public delegate* unmanaged<void*, long*, int> FileSize;
        public delegate* unmanaged<void*, int, int> Lock;
        public delegate* unmanaged<void*, int, int> Unlock;
        public delegate* unmanaged<void*, int*, int> CheckReservedLock;
        public delegate* unmanaged<void*, int, void*, int> FileControl;
        public delegate* unmanaged<void*, int> SectorSize;
        public delegate* unmanaged<void*, int> DeviceCharacteristics;
        public delegate* unmanaged<void*, int, int, int, void**, int> ShmMap;
        public delegate* unmanaged<void*, int, int, int, int> ShmLock;
        public delegate* unmanaged<void*, void> ShmBarrier;
        public delegate* unmanaged<void*, int, int> ShmUnmap;
    }
}
