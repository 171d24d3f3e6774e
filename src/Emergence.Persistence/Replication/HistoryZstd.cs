using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Emergence.Persistence.Replication;

/// <summary>
/// How the history's zstd streams (segments and level files) are read: with the decoder's window capped. Both are
/// written at level 1, whose window is 512 KiB; the decoder's own limit is 128 MiB, which is what a stream's header,
/// damaged or not, could make it allocate before the file's SHA-256 (checked as it is read) refuses it.
/// </summary>
internal static class HistoryZstd
{
    /// <summary>The largest window read, as a power of two: 8 MiB, room for any level up to 19 without long matching.</summary>
    public const int WindowLogMax = 23;

    /// <summary>A stream of what <paramref name="stream"/> decompresses to, refusing (<see cref="ZstdException"/>) a window past <see cref="WindowLogMax"/>.</summary>
    public static DecompressionStream Reading(Stream stream, bool leaveOpen)
    {
        var decompressing = new DecompressionStream(stream, leaveOpen: leaveOpen);
        decompressing.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, WindowLogMax);
        return decompressing;
    }
}
