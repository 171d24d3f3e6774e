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
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        using var parts = new PartsInFlight(send, progress, file.Length, cancellationToken);
        long read = 0;
        progress?.Report(new OperationProgress("upload", 0, file.Length));
        try
        {
            while (!parts.Failed.IsCancellationRequested)
            {
                var buffer = await parts.RentAsync().ConfigureAwait(false);
                var length = await file.ReadAtLeastAsync(buffer.AsMemory(0, PartSize), PartSize, throwOnEndOfStream: false, parts.Failed.Token).ConfigureAwait(false);
                if (length == 0 && parts.Count > 0)
                {
                    parts.Return(buffer);
                    break;
                }

                hash.Append(buffer.AsSpan(0, length));
                read += length;
                parts.Start(buffer, length);
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
            await parts.StopAsync().ConfigureAwait(false);
            throw;
        }

        await parts.AllSentAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return (hash.Finish(), read, parts.Count);
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

    /// <summary>
    /// The parts of one upload in flight: each holds one of <see cref="Concurrency"/> slots and a pooled buffer until it
    /// is sent or fails, and the first that fails cancels the others (through <see cref="Failed"/>).
    /// </summary>
    private sealed class PartsInFlight(Func<int, ReadOnlyMemory<byte>, CancellationToken, Task> send, IProgress<OperationProgress>? progress, long total,
        CancellationToken cancellationToken) : IDisposable
    {
        private readonly SemaphoreSlim _slots = new(Concurrency);
        private readonly List<Task> _sending = [];
        private long _sent;

        /// <summary>Cancelled by the caller, or by the first part that fails.</summary>
        public CancellationTokenSource Failed { get; } = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        /// <summary>Parts started so far (the last one's number).</summary>
        public int Count { get; private set; }

        /// <summary>Waits for a free slot, then takes a buffer for the next part.</summary>
        public async Task<byte[]> RentAsync()
        {
            await _slots.WaitAsync(Failed.Token).ConfigureAwait(false);
            return ArrayPool<byte>.Shared.Rent(PartSize);
        }

        /// <summary>Gives back a buffer and its slot that no part was started with.</summary>
        public void Return(byte[] buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _slots.Release();
        }

        /// <summary>Starts sending the next part: the first <paramref name="length"/> bytes of <paramref name="buffer"/>.</summary>
        public void Start(byte[] buffer, int length)
        {
            Count++;
            _sending.Add(SendPartAsync(Count, buffer, length));
        }

        /// <summary>Cancels the parts in flight and waits for them to end, whatever their outcome.</summary>
        public async Task StopAsync()
        {
            await Failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_sending).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        /// <summary>Waits for every part; throws the exception of one that failed.</summary>
        public Task AllSentAsync() => Task.WhenAll(_sending);

        public void Dispose()
        {
            _slots.Dispose();
            Failed.Dispose();
        }

        private async Task SendPartAsync(int number, byte[] buffer, int length)
        {
            try
            {
                await send(number, buffer.AsMemory(0, length), Failed.Token).ConfigureAwait(false);
                var done = Interlocked.Add(ref _sent, length);
                progress?.Report(new OperationProgress("upload", done, total));
            }
            catch
            {
                await Failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                Return(buffer);
            }
        }
    }
}
