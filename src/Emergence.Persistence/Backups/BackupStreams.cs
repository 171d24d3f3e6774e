using System.IO.Compression;
using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Backups;

/// <summary>Stream plumbing shared by local and off-volume backups.</summary>
internal static class BackupStreams
{
    /// <summary>
    /// Decompresses a Brotli stream from <paramref name="input"/> into <paramref name="output"/>, hashing
    /// both sides as they pass; returns the SHA-256 and length of the compressed input and the SHA-256 of
    /// the output. Damaged input throws <see cref="IOException"/>.
    /// </summary>
    public static async Task<(string Checksum, long Size, string Content)> DecompressAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var inputHash = new Sha256();
        using var outputHash = new Sha256();
        var hashedInput = new HashingStream(input, inputHash);
        try
        {
            await using (var brotli = new BrotliStream(hashedInput, CompressionMode.Decompress, leaveOpen: true))
            await using (var hashedOutput = new HashingStream(output, outputHash))
            {
                await brotli.CopyToAsync(hashedOutput, 1 << 20, cancellationToken).ConfigureAwait(false);
            }

            // Hash any bytes after the end of the Brotli stream too: they are part of the stored file.
            await hashedInput.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new IOException($"the Brotli stream is damaged: {ex.Message}", ex);
        }

        return (inputHash.Finish(), hashedInput.Count, outputHash.Finish());
    }
}
