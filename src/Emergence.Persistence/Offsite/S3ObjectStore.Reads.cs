using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Reading the bucket: an object's head, listings (with each object's head read once per ETag when metadata is asked
/// for), and downloads by ranges fetched a few at a time, each tried again on its own.
/// </summary>
public sealed partial class S3ObjectStore
{
    /// <inheritdoc />
    public async Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken) => (await HeadAsync(key, cancellationToken).ConfigureAwait(false)).Object;

    /// <summary>Reads an object's head: the object as <see cref="GetAsync"/> gives it, and its ETag; both <see langword="null"/> when it does not exist.</summary>
    private async Task<(StoredObject? Object, string? ETag)> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = _options.Prefix + key }, cancellationToken).ConfigureAwait(false);
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in head.Metadata.Keys)
            {
                metadata[name.StartsWith(MetadataPrefix, StringComparison.OrdinalIgnoreCase) ? name[MetadataPrefix.Length..] : name] = head.Metadata[name];
            }

            var modified = head.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : (DateTimeOffset?)null;
            return (new StoredObject(key, head.ContentLength, modified, metadata), head.ETag);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            return (null, null);
        }
        catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex, cancellationToken))
        {
            throw OffsiteErrors.Unavailable($"read back {key}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, bool withMetadata, CancellationToken cancellationToken)
    {
        var found = new List<(StoredObject Object, string? ETag)>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.Prefix + prefix };
        do
        {
            var page = await OffsiteErrors.Guard($"list {(prefix.Length == 0 ? "the bucket" : prefix)}", () => _client.ListObjectsV2Async(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            foreach (var item in page.S3Objects ?? [])
            {
                var modified = item.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : (DateTimeOffset?)null;
                found.Add((new StoredObject(item.Key[_options.Prefix.Length..], item.Size ?? 0, modified, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)), item.ETag));
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        if (!withMetadata)
        {
            return [.. found.Select(f => f.Object)];
        }

        // S3 lists no metadata: each object's head is read, a few at a time, unless this store has read or written the
        // object under the ETag listed (an object is never rewritten in place, and a rewrite would change its ETag).
        // One that has gone since is left out.
        var described = new StoredObject?[found.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, found.Count), new ParallelOptions { MaxDegreeOfParallelism = FileParts.Concurrency * 2, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var (listed, etag) = found[i];
            if (_heads.TryGet(listed.Key, etag, listed.Size, out var known))
            {
                described[i] = listed with { Metadata = known };
                return;
            }

            var (head, headETag) = await HeadAsync(listed.Key, ct).ConfigureAwait(false);
            if (head is not null && headETag is not null)
            {
                _heads.Remember(listed.Key, headETag, head.Size, head.Metadata);
            }

            described[i] = head;
        }).ConfigureAwait(false);
        return [.. described.OfType<StoredObject>()];
    }

    /// <inheritdoc />
    public async Task<bool> DownloadToAsync(string key, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            return false;
        }

        // Ranges are fetched a few at a time and written in order; each is tried again on its own when it fails or stalls.
        var ranges = (int)((stored.Size + FileParts.PartSize - 1) / FileParts.PartSize);
        var inFlight = new Queue<Task<byte[]>>();
        long written = 0;
        for (var next = 0; next < ranges || inFlight.Count > 0;)
        {
            while (next < ranges && inFlight.Count < FileParts.Concurrency)
            {
                var first = (long)next * FileParts.PartSize;
                inFlight.Enqueue(RangeAsync(key, first, Math.Min(first + FileParts.PartSize, stored.Size) - 1, cancellationToken));
                next++;
            }

            var bytes = await inFlight.Dequeue().ConfigureAwait(false);
            await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            written += bytes.Length;
            progress?.Report(written);
        }

        return true;
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = _options.Prefix + key }, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex, cancellationToken))
        {
            throw OffsiteErrors.Unavailable($"download {key}", ex);
        }
    }

    /// <inheritdoc />

    private async Task<byte[]> RangeAsync(string key, long first, long last, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(RequestTimeout);
            try
            {
                using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _options.Bucket, Key = _options.Prefix + key, ByteRange = new ByteRange(first, last) }, bounded.Token).ConfigureAwait(false);
                var bytes = new byte[last - first + 1];
                await response.ResponseStream.ReadExactlyAsync(bytes, bounded.Token).ConfigureAwait(false);
                return bytes;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (OffsiteErrors.IsRequestFailure(ex, cancellationToken) || ex is OperationCanceledException or EndOfStreamException))
            {
                if (attempt >= RangeTries)
                {
                    throw OffsiteErrors.Unavailable($"download bytes {first}-{last} of {key}", ex);
                }
            }
        }
    }

}
