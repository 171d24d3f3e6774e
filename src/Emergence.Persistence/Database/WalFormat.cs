using System.Buffers.Binary;

namespace Emergence.Persistence.Database;

/// <summary>
/// SQLite's write-ahead log file format (https://sqlite.org/fileformat.html#the_write_ahead_log): a
/// 32-byte header, then frames of a 24-byte header and one page. Every number is big-endian; the
/// checksums run over 32-bit words in the byte order the header's magic names, each frame's seeded by
/// the one before, so a frame is valid only where the whole chain from the header holds.
/// </summary>
public static class WalFormat
{
    /// <summary>The WAL header's size.</summary>
    public const int HeaderSize = 32;

    /// <summary>A frame header's size.</summary>
    public const int FrameHeaderSize = 24;

    /// <summary>The magic with little-endian checksum words; the one with big-endian ones is this plus one.</summary>
    public const uint Magic = 0x377f0682;

    /// <summary>The only file-format version SQLite writes.</summary>
    public const uint Version = 3007000;

    /// <summary>A WAL header, as read.</summary>
    /// <param name="BigEndianChecksums">Whether the checksum words are big-endian (the magic's low bit).</param>
    /// <param name="PageSize">The database page size.</param>
    /// <param name="CheckpointSequence">Incremented each time the log restarts.</param>
    /// <param name="Salt1">Incremented each time the log restarts; every frame of this log carries it.</param>
    /// <param name="Salt2">A new random value each time the log restarts; every frame of this log carries it.</param>
    /// <param name="Checksum">The header's checksum: the seed of the first frame's.</param>
    public sealed record Header(bool BigEndianChecksums, int PageSize, uint CheckpointSequence, uint Salt1, uint Salt2, Chain Checksum);

    /// <summary>The running checksum pair.</summary>
    public readonly record struct Chain(uint S1, uint S2);

    /// <summary>Reads and checks a header; <see langword="null"/> when the bytes are not a valid one (a log being created, or none).</summary>
    public static Header? ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize)
        {
            return null;
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if ((magic & ~1u) != Magic || BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]) != Version)
        {
            return null;
        }

        var bigEndian = (magic & 1) == 1;
        var pageSize = BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]);
        if (pageSize is < 512 or > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            return null;
        }

        var computed = Checksum(bigEndian, bytes[..24], default);
        var stored = new Chain(BinaryPrimitives.ReadUInt32BigEndian(bytes[24..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[28..]));
        return computed != stored
            ? null
            : new Header(bigEndian, (int)pageSize, BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]), stored);
    }

    /// <summary>A frame's page number (0 is never valid).</summary>
    public static uint PageNumber(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadUInt32BigEndian(frame);

    /// <summary>For a commit frame, the database's size in pages after the commit; 0 for other frames.</summary>
    public static uint CommitSize(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);

    /// <summary>
    /// Checks one frame (header and page) against the log's salts and the chain so far; returns the chain after
    /// it, or <see langword="null"/> when the frame does not belong to this log at this place.
    /// </summary>
    public static Chain? CheckFrame(Header header, Chain previous, ReadOnlySpan<byte> frame)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (frame.Length != FrameHeaderSize + header.PageSize
            || PageNumber(frame) == 0
            || BinaryPrimitives.ReadUInt32BigEndian(frame[8..]) != header.Salt1
            || BinaryPrimitives.ReadUInt32BigEndian(frame[12..]) != header.Salt2)
        {
            return null;
        }

        var chain = Checksum(header.BigEndianChecksums, frame[..8], previous);
        chain = Checksum(header.BigEndianChecksums, frame[FrameHeaderSize..], chain);
        var stored = new Chain(BinaryPrimitives.ReadUInt32BigEndian(frame[16..]), BinaryPrimitives.ReadUInt32BigEndian(frame[20..]));
        return chain == stored ? chain : null;
    }

    /// <summary>SQLite's WAL checksum over <paramref name="data"/> (a multiple of 8 bytes), continuing <paramref name="seed"/>.</summary>
    public static Chain Checksum(bool bigEndian, ReadOnlySpan<byte> data, Chain seed)
    {
        var (s1, s2) = (seed.S1, seed.S2);
        for (var i = 0; i + 8 <= data.Length; i += 8)
        {
            var x0 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[i..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            var x1 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            unchecked
            {
                s1 += x0 + s2;
                s2 += x1 + s1;
            }
        }

        return new Chain(s1, s2);
    }
}
