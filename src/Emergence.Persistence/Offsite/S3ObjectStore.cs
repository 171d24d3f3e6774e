using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// An S3-compatible bucket as an object store (Railway Buckets, AWS S3, any S3 API): objects under the
/// configured key prefix, large ones by multipart upload in parts of <see cref="FileParts.PartSize"/>,
/// conditional creation with <c>If-None-Match: *</c>, metadata as <c>x-amz-meta-*</c>. The bucket must exist.
/// A listing carries no metadata in S3, so a listing that needs it reads each object's head.
/// </summary>
public sealed class S3ObjectStore(IAmazonS3 client, S3TargetOptions options) : IObjectStore
{
    /// <summary>How long one try of one request (or one range of a download) may take before it is given up and tried again.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Tries per range of a download, the first included.</summary>
    public const int RangeTries = 4;

    private const string MetadataPrefix = "x-amz-meta-";

    private readonly IAmazonS3 _client = client ?? throw new ArgumentNullException(nameof(client));
    private readonly S3TargetOptions _options = options ?? throw new ArgumentNullException(nameof(options));
    private readonly S3Heads _heads = new();

    /// <inheritdoc />
    public string Kind => "s3";

    /// <inheritdoc />
    public string Name => _options.Name!;

    /// <inheritdoc />
    public string Describe() => $"{(_options.Endpoint is { } endpoint ? endpoint.GetLeftPart(UriPartial.Authority) : "s3://")}{(_options.Endpoint is null ? "" : "/")}{_options.Bucket}/{_options.Prefix}";

    /// <inheritdoc />
    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> metadata, bool createOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = _options.Prefix + key,
            InputStream = new MemoryStream(content.ToArray(), writable: false),
            MD5Digest = ContentMd5(content.Span),
            ContentType = "application/octet-stream",
            UseChunkEncoding = false,
            IfNoneMatch = createOnly ? "*" : null,
        };
        foreach (var (name, value) in metadata)
        {
            request.Metadata.Add(name, value);
        }

        string? etag = null;
        var created = await Created($"upload {key}", async () => etag = (await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false)).ETag, cancellationToken).ConfigureAwait(false);
        if (created && etag is not null)
        {
            // What was just written is what a listing will show under this ETag: no head to read for it later.
            _heads.Remember(key, etag, content.Length, new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase));
        }

        return created;
    }

    /// <inheritdoc />
    public async Task<bool> PutFileAsync(string key, string path, FileParts.Expected expected, IReadOnlyDictionary<string, string> metadata, bool createOnly, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var start = new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = _options.Prefix + key, ContentType = "application/octet-stream" };
        foreach (var (name, value) in metadata)
        {
            start.Metadata.Add(name, value);
        }

        var upload = await OffsiteErrors.Guard($"start the upload of {key}", () => _client.InitiateMultipartUploadAsync(start, cancellationToken), cancellationToken).ConfigureAwait(false);
        var etags = new System.Collections.Concurrent.ConcurrentDictionary<int, string>();
        try
        {
            var (checksum, size, _) = await OffsiteErrors.Guard($"upload {key}", () => FileParts.SendAsync(path, async (number, part, ct) =>
            {
                var response = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = start.Key,
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    InputStream = new MemoryStream(part.ToArray(), writable: false),
                    MD5Digest = ContentMd5(part.Span),
                    UseChunkEncoding = false,
                }, ct).ConfigureAwait(false);
                etags[number] = response.ETag;
            }, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
            FileParts.Check(key, expected, checksum, size);
            var complete = new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = start.Key,
                UploadId = upload.UploadId,
                PartETags = [.. etags.OrderBy(e => e.Key).Select(e => new PartETag(e.Key, e.Value))],
                IfNoneMatch = createOnly ? "*" : null,
            };
            var created = await Created($"complete the upload of {key}", () => _client.CompleteMultipartUploadAsync(complete, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (!created)
            {
                await AbortAsync(start.Key, upload.UploadId).ConfigureAwait(false);
            }

            return created;
        }
        catch
        {
            // Nothing was committed: the parts sent so far are dropped rather than billed until a lifecycle rule finds them.
            await AbortAsync(start.Key, upload.UploadId).ConfigureAwait(false);
            throw;
        }
    }

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
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        OffsiteErrors.Guard($"delete {key}", () => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = _options.Prefix + key }, cancellationToken), cancellationToken);

    /// <summary>The Content-MD5 header's value: the store checks the body against it (integrity in transit, not security).</summary>
#pragma warning disable CA5351 // S3 defines Content-MD5; the content's SHA-256 is what proves it.
    private static string ContentMd5(ReadOnlySpan<byte> content) => Convert.ToBase64String(MD5.HashData(content));
#pragma warning restore CA5351

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

    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex))
        {
            // Best effort: the store is unreachable; its lifecycle rule (or the next abort) cleans the parts.
        }
    }

    /// <summary>Runs a conditional write: <see langword="false"/> when the object already existed.</summary>
    private static async Task<bool> Created<T>(string doing, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            await write().ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict && ex.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict")
        {
            return false;
        }
        catch (Exception ex) when (OffsiteErrors.Translates(ex, cancellationToken))
        {
            throw OffsiteErrors.Translate(doing, ex, cancellationToken);
        }
    }

}
