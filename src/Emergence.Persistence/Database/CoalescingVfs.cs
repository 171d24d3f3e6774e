using System.Runtime.InteropServices;
using System.Text;

namespace Emergence.Persistence.Database;

/// <summary>
/// A SQLite VFS for writing a new file from start to end (a backup's copy): it passes every call to the
/// default VFS, except that the page-sized writes of the main database file that follow one another are
/// gathered into aligned writes of <see cref="ChunkBytes"/>. Written page by page, the kernel keeps the copy
/// in single 4 KiB pages, which costs twice the time to fill the page cache and, measured here, disturbs a
/// concurrent committer more than the same bytes written in larger pieces.
/// </summary>
/// <remarks>
/// Gathered bytes are written before any other call on the file goes to the default VFS (a read, the size,
/// a truncate, a sync, a lock change, a file control, shared memory, close), and before a write that does not
/// continue them; so every call sees the file exactly as page-by-page writing would have left it, and a
/// deferred write's error is returned by the next call, at the latest the unlock that ends the transaction.
/// Files other than the main database (journals, WAL) are passed through unchanged.
/// </remarks>
public static unsafe partial class CoalescingVfs
{
    /// <summary>The VFS's registered name, for a URI filename's <c>vfs=</c> parameter.</summary>
    public const string Name = "emergence-coalesce";

    /// <summary>The size of the writes gathered page writes become, and their alignment in the file.</summary>
    public const int ChunkBytes = 64 * 1024;

    private const int Ok = 0;
    private const int IoErrWrite = 10 | (3 << 8);
    private const int NoMem = 7;
    private const int OpenMainDb = 0x100;
    private const int VfsStructSize = 168; // sqlite3_vfs, version 3, on a 64-bit platform
    private const int VfsSzOsFileOffset = 4;
    private const int VfsNextOffset = 16;
    private const int VfsNameOffset = 24;
    private const int VfsAppDataOffset = 32;
    private const int VfsOpenOffset = 40;

    private static readonly Lock Gate = new();
    private static long s_gatheredWrites;
    private static IoMethods* s_methods;
    private static bool s_registered;

    /// <summary>How many writes, in this process, carried more than one page write's bytes to the platform VFS.</summary>
    internal static long GatheredWrites => Interlocked.Read(ref s_gatheredWrites);

    /// <summary>
    /// The URI filename that opens <paramref name="path"/> through this VFS (registering it on first use);
    /// in a 32-bit process, whose structure layouts it does not describe, the path itself.
    /// </summary>
    public static string UriFor(string path)
    {
        if (!Environment.Is64BitProcess)
        {
            return path;
        }

        EnsureRegistered();
        var full = Path.GetFullPath(path);
        var escaped = new StringBuilder(full.Length + 8);
        foreach (var c in full)
        {
            _ = c switch
            {
                '%' => escaped.Append("%25"),
                '?' => escaped.Append("%3f"),
                '#' => escaped.Append("%23"),
                _ => escaped.Append(c),
            };
        }

        return $"file:{escaped}?vfs={Name}";
    }

    private static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (s_registered)
            {
                return;
            }

            SqliteRuntime.EnsureSupported(); // loads and initialises SQLite the way Microsoft.Data.Sqlite does
            var platform = (byte*)Find(null);
            if (platform == null)
            {
                throw new InvalidOperationException("SQLite has no default VFS.");
            }

            // A copy of the default VFS (every method stays the platform's) with its own name, a larger
            // per-file size (ours in front of the platform's) and its own xOpen.
            var version = *(int*)platform;
            if (version < 1)
            {
                throw new InvalidOperationException($"SQLite's default VFS has version {version}.");
            }

            var vfs = (byte*)NativeMemory.AllocZeroed(VfsStructSize);
            var size = Math.Min(VfsStructSize, VfsSizeOfVersion(version));
            Buffer.MemoryCopy(platform, vfs, VfsStructSize, size);
            var platformFileSize = *(int*)(platform + VfsSzOsFileOffset);
            *(int*)(vfs + VfsSzOsFileOffset) = sizeof(FileHeader) + platformFileSize;
            *(nint*)(vfs + VfsNextOffset) = 0;
            *(byte**)(vfs + VfsNameOffset) = Utf8(Name);
            *(nint*)(vfs + VfsAppDataOffset) = (nint)platform;
            *(delegate* unmanaged<byte*, byte*, void*, int, int*, int>*)(vfs + VfsOpenOffset) = &Open;

            s_methods = CreateMethods();
            var rc = Register((nint)vfs, 0);
            if (rc != Ok)
            {
                throw new InvalidOperationException($"SQLite refused to register the {Name} VFS (error {rc}).");
            }

            s_registered = true;
        }
    }

    /// <summary>The I/O methods of a file opened through the VFS (see <see cref="Close"/> and those after it), allocated once.</summary>
    private static IoMethods* CreateMethods()
    {
        var methods = (IoMethods*)NativeMemory.AllocZeroed((nuint)sizeof(IoMethods));
        methods->Version = 2; // shared memory (a WAL), but no memory-mapped reads of gathered bytes
        methods->Close = &Close;
        methods->Read = &Read;
        methods->Write = &Write;
        methods->Truncate = &Truncate;
        methods->Sync = &Sync;
        methods->FileSize = &FileSize;
        methods->Lock = &LockFile;
        methods->Unlock = &Unlock;
        methods->CheckReservedLock = &CheckReservedLock;
        methods->FileControl = &FileControl;
        methods->SectorSize = &SectorSize;
        methods->DeviceCharacteristics = &DeviceCharacteristics;
        methods->ShmMap = &ShmMap;
        methods->ShmLock = &ShmLock;
        methods->ShmBarrier = &ShmBarrier;
        methods->ShmUnmap = &ShmUnmap;

        return methods;
    }

    /// <summary>The size of <c>sqlite3_vfs</c> up to the last method of a version (1: xGetLastError, 2: xCurrentTimeInt64, 3: xNextSystemCall).</summary>
    private static int VfsSizeOfVersion(int version) => version switch
    {
        1 => 136,
        2 => 144,
        _ => VfsStructSize,
    };

    [UnmanagedCallersOnly]
    private static int Open(byte* vfs, byte* name, void* opened, int flags, int* outFlags)
    {
        var file = (FileHeader*)opened;
        *file = default;
        var platform = (byte*)*(nint*)(vfs + VfsAppDataOffset);
        var open = *(delegate* unmanaged<byte*, byte*, void*, int, int*, int>*)(platform + VfsOpenOffset);
        var inner = Inner(file);
        inner->Methods = null;
        var rc = open(platform, name, inner, flags, outFlags);
        if (inner->Methods == null)
        {
            return rc == Ok ? IoErrWrite : rc; // nothing to close
        }

        if (rc == Ok && (flags & OpenMainDb) != 0)
        {
            try
            {
                file->Buffer = (byte*)NativeMemory.Alloc(ChunkBytes);
            }
            catch (OutOfMemoryException)
            {
                rc = NoMem; // nothing may be thrown back into SQLite
            }
        }

        file->Methods = s_methods; // set even on failure, so that SQLite's xClose releases the platform's file
        return rc;
    }

    private static byte* Utf8(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var native = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        return native;
    }

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_vfs_find")]
    private static partial nint Find(byte* name);

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_vfs_register")]
    private static partial int Register(nint vfs, int makeDefault);

}
