using Emergence.Persistence.Database;
using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The staged copy of a backup as a replay writes it, and the only way the replay writes it: every write and every
/// change of length passes here, and is kept account of. A page of the copy that is written over, or cut off by a
/// shorter length, stops being the copy's own; its hash as the copy held it is read from the file just before, once.
/// The content checksum of the result is then the copy's checksum with those hashes taken out and the changed pages,
/// read back from the file, put in (<see cref="ChecksumNow"/>): a proof that reads back what the replay changed, not
/// the gigabyte it left alone. What it cannot see is a write by anything else: the file is the restore's own staging
/// file, under the volume lock, held open here until disposed.
/// </summary>
public sealed class StagedFile : IDisposable
{
    /// <summary>The most pages read in one call.</summary>
    private const int PagesPerRead = 256;

    private readonly SafeFileHandle _handle;
    private readonly HashSet<long> _changed = [];
    private readonly int _pageSize;
    private readonly long _ownPages;
    private byte[] _buffer = [];
    private ulong _before;

    /// <summary>Opens the staged copy at <paramref name="path"/> for writing, alone; with <paramref name="keepAccount"/>, keeps account of its pages that change.</summary>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public StagedFile(string path, bool keepAccount = true)
    {
        Path = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        try
        {
            Length = RandomAccess.GetLength(_handle);
            Span<byte> header = stackalloc byte[100];
            var pageSize = keepAccount && Length >= header.Length && RandomAccess.Read(_handle, header, 0) == header.Length ? PageHashes.PageSizeOf(header) : null;

            // Kept account of only when the copy is whole pages of the size its header gives: then its checksum is the XOR of those pages' hashes.
            Accounted = pageSize is { } size && Length % size == 0;
            _pageSize = pageSize ?? 0;
            _ownPages = Accounted ? Length / _pageSize : 0;
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The file's length now.</summary>
    public long Length { get; private set; }

    /// <summary>Whether account is kept: it was asked for, and the copy was whole pages of its header's page size when opened.</summary>
    public bool Accounted { get; }

    /// <summary>How many of the copy's pages have stopped being its own (written over, or cut off).</summary>
    public int ChangedPages => _changed.Count;

    /// <summary>The open handle, for reading the file whole.</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        Before(offset, offset + data.Length);
        RandomAccess.Write(_handle, data, offset);
        Length = Math.Max(Length, offset + data.Length);
    }

    /// <summary>Sets the file's length: pages past a shorter one are cut off, a longer one reads as zeros.</summary>
    public void SetLength(long length)
    {
        if (length < Length)
        {
            Before(length, Length);
        }

        RandomAccess.SetLength(_handle, length);
        Length = length;
    }

    /// <summary>Makes what was written durable.</summary>
    public void Flush() => RandomAccess.FlushToDisk(_handle);

    /// <summary>
    /// The content checksum of the file now (as <see cref="PageHashes.OfFile(SafeFileHandle, string, int, CancellationToken)"/>
    /// gives it), from <paramref name="copyChecksum"/>, the copy's when opened: reads back only the pages that changed and
    /// the pages past the copy's end.
    /// </summary>
    /// <exception cref="InvalidOperationException">No account was kept (<see cref="Accounted"/>).</exception>
    /// <exception cref="IOException">The file is not a whole number of pages, or cannot be read.</exception>
    public ulong ChecksumNow(ulong copyChecksum, CancellationToken cancellationToken = default)
    {
        if (!Accounted)
        {
            throw new InvalidOperationException($"No account was kept of {Path}'s pages.");
        }

        var length = RandomAccess.GetLength(_handle);
        if (length % _pageSize != 0)
        {
            throw new IOException($"{Path} is {length} bytes, not a whole number of {_pageSize}-byte pages.");
        }

        var pages = length / _pageSize;
        var sum = copyChecksum ^ _before;
        var read = _changed.Where(p => p < pages).Concat(Range(_ownPages, pages)).Order().ToList();
        for (var i = 0; i < read.Count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var run = 1;
            while (i + run < read.Count && run < PagesPerRead && read[i + run] == read[i] + run)
            {
                run++;
            }

            sum ^= HashPages(read[i], run);
            i += run;
        }

        return sum;
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    private static IEnumerable<long> Range(long from, long to)
    {
        for (var p = from; p < to; p++)
        {
            yield return p;
        }
    }

    /// <summary>Takes the copy's own pages among bytes <paramref name="from"/> to <paramref name="to"/> into account before they change: their hashes as they are.</summary>
    private void Before(long from, long to)
    {
        if (!Accounted || to <= from)
        {
            return;
        }

        var end = Math.Min(_ownPages, (to + _pageSize - 1) / _pageSize);
        for (var page = from / _pageSize; page < end;)
        {
            if (_changed.Contains(page))
            {
                page++;
                continue;
            }

            var run = 1;
            while (page + run < end && run < PagesPerRead && !_changed.Contains(page + run))
            {
                run++;
            }

            _before ^= HashPages(page, run);
            for (var k = 0; k < run; k++)
            {
                _changed.Add(page + k);
            }

            page += run;
        }
    }

    /// <summary>Reads <paramref name="count"/> pages from the 0-based <paramref name="page"/> on, as the file holds them now; returns the XOR of their hashes.</summary>
    private ulong HashPages(long page, int count)
    {
        if (_buffer.Length < count * _pageSize)
        {
            _buffer = new byte[PagesPerRead * _pageSize];
        }

        var bytes = _buffer.AsSpan(0, count * _pageSize);
        if (!Platform.RegularFile.TryReadAt(_handle, bytes, page * _pageSize))
        {
            throw new IOException($"{Path} ends before its page {page + count}.");
        }

        var sum = 0UL;
        for (var k = 0; k < count; k++)
        {
            sum ^= PageHashes.Hash((uint)(page + k + 1), bytes.Slice(k * _pageSize, _pageSize));
        }

        return sum;
    }
}
