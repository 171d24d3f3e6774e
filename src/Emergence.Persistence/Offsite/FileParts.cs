using System.Buffers;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Reads a file in parts for a store's multipart upload: in order, hashing every byte, while at most
/// <see cref="Concurrency"/> parts are in flight; after the last part the caller compares what was read with
/// what was meant to be uploaded before it commits anything.
/// </summary>
public static class FileParts
{
    /// <summary>Bytes per part (every part but the last): bounded, so memory is at most this times <see cref="Concurrency"/>.</summary>
    public const int PartSize = 8 << 20;

    /// <summary>Parts in flight at once, per upload or download.</summary>
    public const int Concurrency = 4;

    /// <summary>What the file must be for its upload to be committed.</summary>
    /// <param name="Size">Its length in bytes.</param>
    /// <param name="Checksum">Its lowercase hex SHA-256.</param>
    public sealed record Expected(long Size, string Checksum);

    /// <summary>
    /// Sends every part of <paramref name="path"/> with <paramref name="send"/> (part numbers from 1), and returns
    /// the SHA-256 and length of what was read. The first failed part cancels the others; its exception is thrown.
    /// </summary>
    public static async Task<(string Checksum, long Size, int Parts)> SendAsync(string path, Func<int, ReadOnlyMemory<byte>, CancellationToken, Task> send, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        using var hash = new Sha256();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Concurrency);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var total = file.Length;
        var sending = new List<Task>();
        long read = 0, sent = 0;
        var parts = 0;
        progress?.Report(new OperationProgress("upload", 0, total));
        try
        {
            while (!failed.IsCancellationRequested)
            {
                await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(PartSize);
                var length = await file.ReadAtLeastAsync(buffer.AsMemory(0, PartSize), PartSize, throwOnEndOfStream: false, failed.Token).ConfigureAwait(false);
                if (length == 0 && parts > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    slots.Release();
                    break;
                }

                hash.Append(buffer.AsSpan(0, length));
                read += length;
                parts++;
                sending.Add(SendPartAsync(parts, buffer, length));
                if (length < PartSize)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A part failed and cancelled the rest; its exception is thrown below.
        }
        catch
        {
            // Cancelled by the caller, or the file could not be read: stop the parts in flight and wait for them,
            // so none still holds a pooled buffer, a slot or the token when they are disposed.
            await failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(sending).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        await Task.WhenAll(sending).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return (hash.Finish(), read, parts);

        async Task SendPartAsync(int number, byte[] buffer, int length)
        {
            try
            {
                await send(number, buffer.AsMemory(0, length), failed.Token).ConfigureAwait(false);
                var done = Interlocked.Add(ref sent, length);
                progress?.Report(new OperationProgress("upload", done, total));
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                slots.Release();
            }
        }
    }

    /// <summary>Throws when what was read is not what was meant to be uploaded: the caller has committed nothing.</summary>
    /// <exception cref="OffsiteUnavailableException">The file changed while it was read.</exception>
    public static void Check(string name, Expected expected, string checksum, long size)
    {
        ArgumentNullException.ThrowIfNull(expected);
        if (size != expected.Size || !string.Equals(checksum, expected.Checksum, StringComparison.Ordinal))
        {
            throw new OffsiteUnavailableException($"{name} changed while it was uploaded: read {size} bytes with SHA-256 {checksum}, the manifest says {expected.Size} bytes, {expected.Checksum}. Nothing was committed.");
        }
    }
}
