using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Database;

/// <summary>
/// The content checksum of a database file: the XOR, over every page, of a 64-bit XXH3 hash of the page's bytes
/// seeded with its page number. Kept page by page, so it is updated as pages change (a commit's frames replace
/// their pages' hashes; a commit that shrinks the database drops the pages past its end) without reading the
/// rest. Two files with the same checksum hold the same pages, except in the page-1 header fields that SQLite
/// itself rewrites in any copy of a database and that say nothing about its content (see <see cref="Normalize"/>).
/// </summary>
public sealed class PageHashes
{
    /// <summary>The fields of the 100-byte page-1 header left out of the checksum, as (offset, length).</summary>
    /// <remarks>
    /// The file-format read and write versions (18, 19: 1 in rollback-journal mode, 2 in WAL mode, so a backup and
    /// its source differ), the file change counter (24), the in-header page count (28: the pages hashed say it),
    /// the schema cookie (40: the backup API sets the copy's to its own old value plus one), and the
    /// version-valid-for number and SQLite version (92, 96), rewritten by whichever library last wrote the file.
    /// </remarks>
    private static readonly (int Offset, int Length)[] Volatile = [(18, 2), (24, 4), (28, 4), (40, 4), (92, 8)];

    private ulong[] _hashes;
    private ulong _sum;

    private PageHashes(ulong[] hashes, long pages, ulong sum, int pageSize)
    {
        _hashes = hashes;
        Pages = pages;
        _sum = sum;
        PageSize = pageSize;
    }

    /// <summary>The page size (0 until the first page of an empty database is set).</summary>
    public int PageSize { get; private set; }

    /// <summary>How many pages the database holds.</summary>
    public long Pages { get; private set; }

    /// <summary>The checksum of the whole content.</summary>
    public ulong Checksum => _sum;

    /// <summary>A copy that changes independently of this one.</summary>
    public PageHashes Clone() => new((ulong[])_hashes.Clone(), Pages, _sum, PageSize);

    /// <summary>An empty database (no page).</summary>
    public static PageHashes Empty(int pageSize = 0) => new(new ulong[16], 0, 0, pageSize);

    /// <summary>The checksum as text: 16 lowercase hex digits.</summary>
    public static string Format(ulong checksum) => checksum.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses <see cref="Format"/>'s text; <see langword="null"/> when it is not 16 hex digits.</summary>
    public static ulong? Parse(string? text) =>
        text is { Length: 16 } && ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The hash of one page, page 1 with its volatile header fields zeroed.</summary>
    public static ulong Hash(uint pageNumber, ReadOnlySpan<byte> page)
    {
        if (pageNumber != 1 || page.Length < 100)
        {
            return XxHash3.HashToUInt64(page, pageNumber);
        }

        Span<byte> header = stackalloc byte[100];
        page[..100].CopyTo(header);
        Normalize(header);
        var hash = new XxHash3(pageNumber);
        hash.Append(header);
        hash.Append(page[100..]);
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Zeroes the page-1 header fields that are not content (see the remarks on the field list).</summary>
    public static void Normalize(Span<byte> header)
    {
        foreach (var (offset, length) in Volatile)
        {
            header.Slice(offset, length).Clear();
        }
    }

    /// <summary>Sets a page's content (1-based page number); a page past the end grows the database to it.</summary>
    public void Set(uint pageNumber, ReadOnlySpan<byte> page)
    {
        ArgumentOutOfRangeException.ThrowIfZero(pageNumber);
        if (PageSize == 0)
        {
            PageSize = page.Length;
        }

        var index = pageNumber - 1;
        if (pageNumber > Pages)
        {
            // The pages between the end and this one read as zero-filled; this one's old hash is none.
            Grow(index);
            Capacity(pageNumber);
            _hashes[index] = 0;
            Pages = pageNumber;
        }

        var hash = Hash(pageNumber, page);
        _sum ^= _hashes[index] ^ hash;
        _hashes[index] = hash;
    }

    /// <summary>Sets the database's size after a commit: pages past it are dropped, pages up to it that were never written count as zero-filled.</summary>
    public void Resize(uint pages)
    {
        if (pages > Pages)
        {
            Grow(pages);
            return;
        }

        for (var i = pages; i < Pages; i++)
        {
            _sum ^= _hashes[i];
            _hashes[i] = 0;
        }

        Pages = pages;
    }

    /// <summary>The threads a restore reads its result with to prove it: every core, up to 4.</summary>
    public static int ProofWorkers => Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>Hashes a database file (never the live database: only backups, staged copies and restore results) by reading its pages.</summary>
    /// <exception cref="IOException">The file cannot be read, or is not a whole number of pages.</exception>
    public static PageHashes OfFile(string path, CancellationToken cancellationToken = default) => OfFile(path, 1, cancellationToken);

    /// <summary>Hashes a database file, its parts read and hashed by up to <paramref name="workers"/> threads at once.</summary>
    /// <exception cref="IOException">The file cannot be read, or is not a whole number of pages.</exception>
    public static PageHashes OfFile(string path, int workers, CancellationToken cancellationToken = default)
    {
        using var handle = Platform.RegularFile.OpenRead(path);
        return OfFile(handle, path, workers, cancellationToken);
    }

    /// <summary>Hashes the database file open at <paramref name="handle"/>.</summary>
    /// <exception cref="IOException">The file is not a whole number of pages of the size its header gives.</exception>
    public static PageHashes OfFile(SafeFileHandle handle, string path, CancellationToken cancellationToken = default) => OfFile(handle, path, 1, cancellationToken);

    /// <summary>Hashes the database file open at <paramref name="handle"/>, its parts read and hashed by up to <paramref name="workers"/> threads at once (1: the calling thread alone).</summary>
    /// <exception cref="IOException">The file is not a whole number of pages of the size its header gives.</exception>
    public static PageHashes OfFile(SafeFileHandle handle, string path, int workers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return Empty();
        }

        var header = new byte[100];
        if (RandomAccess.Read(handle, header, 0) < header.Length)
        {
            throw new IOException($"{path} is shorter than a database header.");
        }

        var pageSize = PageSizeOf(header) ?? throw new IOException($"{path} is not a SQLite database (no valid page size in its header).");
        if (length % pageSize != 0 || length / pageSize > uint.MaxValue)
        {
            throw new IOException($"{path} is {length} bytes, not a whole number of {pageSize}-byte pages.");
        }

        // Each worker hashes one stretch of the file into its own places of one array, and the checksum is the XOR of
        // the stretches' sums: they can be read in any order, by several threads at once. A stretch is one long loop
        // (not many short calls), so the runtime optimizes it while it runs, as it does the single reader's.
        var pages = length / pageSize;
        var hashes = new ulong[Math.Max(16, pages)];
        var part = Math.Max(pageSize, 1 << 20) / pageSize * pageSize;
        var stretch = ((length + part - 1) / part + workers - 1) / workers * part;
        var sum = 0UL;
        var gate = new Lock();
        try
        {
            Parallel.For(0, (int)((length + stretch - 1) / stretch), new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, worker =>
            {
                var from = worker * stretch;
                var stretchSum = HashStretch(handle, path, hashes, pageSize, part, from, Math.Min(length, from + stretch), cancellationToken);
                lock (gate)
                {
                    sum ^= stretchSum;
                }
            });
        }
        catch (AggregateException failed)
        {
            // Stretches read at once may fail at once (a file cut short under every reader): the first error stands for them.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.Flatten().InnerExceptions[0]);
            throw;
        }

        return new PageHashes(hashes, pages, sum, pageSize);
    }

    /// <summary>Hashes the pages from byte <paramref name="from"/> to <paramref name="to"/> into their places in <paramref name="hashes"/>, a part at a time; returns their XOR.</summary>
    private static ulong HashStretch(SafeFileHandle handle, string path, ulong[] hashes, int pageSize, int part, long from, long to, CancellationToken cancellationToken)
    {
        var buffer = new byte[part];
        var sum = 0UL;
        for (var offset = from; offset < to; offset += part)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var want = (int)Math.Min(part, to - offset);
            if (!Platform.RegularFile.TryReadAt(handle, buffer.AsSpan(0, want), offset))
            {
                throw new IOException($"{path} changed while it was read.");
            }

            for (var at = 0; at < want; at += pageSize)
            {
                var page = (uint)((offset + at) / pageSize);
                var hash = Hash(page + 1, buffer.AsSpan(at, pageSize));
                hashes[page] = hash;
                sum ^= hash;
            }
        }

        return sum;
    }

    /// <summary>The page size a database header gives (bytes 16–17, 1 meaning 65536), or <see langword="null"/> when it is not a valid one.</summary>
    public static int? PageSizeOf(ReadOnlySpan<byte> header)
    {
        if (header.Length < 18)
        {
            return null;
        }

        var raw = BinaryPrimitives.ReadUInt16BigEndian(header[16..]);
        var size = raw == 1 ? 65536 : raw;
        return size is >= 512 and <= 65536 && (size & (size - 1)) == 0 ? size : null;
    }

    private void Capacity(uint pages)
    {
        if (pages > _hashes.Length)
        {
            Array.Resize(ref _hashes, (int)Math.Max(pages, Math.Min((long)_hashes.Length * 2, int.MaxValue)));
        }
    }

    private void Grow(uint pages)
    {
        Capacity(pages);

        // Pages never written hash as zero-filled pages, as SQLite reads them.
        for (var i = (uint)Pages; i < pages; i++)
        {
            var zero = ZeroPageHash(i + 1);
            _hashes[i] = zero;
            _sum ^= zero;
        }

        Pages = pages;
    }

    private ulong ZeroPageHash(uint pageNumber) => PageSize == 0 ? 0 : Hash(pageNumber, new byte[PageSize]);
}
