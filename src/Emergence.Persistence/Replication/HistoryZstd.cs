using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Emergence.Persistence.Replication;

/// <summary>
/// The history's zstd streams (segments and level files): written at zstd's fastest level, whose window is 512 KiB,
/// and read with the decoder's window capped. The decoder's own limit is 128 MiB, which is what a stream's header,
/// damaged or not, could make it allocate before the file's SHA-256 (checked as it is read) refuses it.
/// </summary>
internal static class HistoryZstd
{
    /// <summary>The codec's name as a history file's record gives it.</summary>
    public const string Codec = "zstd";

    /// <summary>The fastest level: a history file's ratio comes from what repeats in it (a page's versions, rows alike), not from the level.</summary>
    private const int Level = 1;

    /// <summary>The largest window read, as a power of two: 8 MiB, room for any level up to 19 without long matching.</summary>
    public const int WindowLogMax = 23;

    /// <summary>A stream that compresses what is written to it into <paramref name="stream"/>, which stays open; disposing it ends the stream.</summary>
    public static CompressionStream Writing(Stream stream) => new(stream, Level, leaveOpen: true);

    /// <summary>A stream of what <paramref name="stream"/> decompresses to, refusing (<see cref="ZstdException"/>) a window past <see cref="WindowLogMax"/>.</summary>
    public static DecompressionStream Reading(Stream stream, bool leaveOpen)
    {
        var decompressing = new DecompressionStream(stream, leaveOpen: leaveOpen);
        decompressing.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, WindowLogMax);
        return decompressing;
    }
}
