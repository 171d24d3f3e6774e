using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Emergence.Persistence.Platform;

/// <summary>
/// SHA-256 as this project records it (lowercase hex), fed in pieces: by a <see cref="HashingStream"/>
/// as bytes pass through it, by <see cref="Append"/>, or over a whole file with <see cref="OfFile(SafeFileHandle, Action{long, long}?, CancellationToken)"/>.
/// </summary>
internal sealed class Sha256 : IDisposable
{
    private const int BufferSize = 1 << 20;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>How many bytes have been hashed.</summary>
    public long Count { get; private set; }

    /// <summary>Adds bytes to the hash.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        Count += data.Length;
    }

    /// <summary>The hash of everything appended, as lowercase hex.</summary>
    public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();

    /// <summary>The SHA-256 and length of a file read through an open handle; <paramref name="progress"/> gets (bytes done, total).</summary>
    public static (string Checksum, long Size) OfFile(SafeFileHandle handle, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var length = RandomAccess.GetLength(handle);
        using var hash = new Sha256();
        var buffer = new byte[BufferSize];
        int read;
        while ((read = RandomAccess.Read(handle, buffer, hash.Count)) > 0)
        {
            hash.Append(buffer.AsSpan(0, read));
            progress?.Invoke(hash.Count, length);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return (hash.Finish(), hash.Count);
    }

    /// <summary>The SHA-256 and length of the file at <paramref name="path"/>.</summary>
    public static (string Checksum, long Size) OfFile(string path, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        return OfFile(handle, progress, cancellationToken);
    }
}
