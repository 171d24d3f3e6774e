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
public sealed partial class S3ObjectStore(IAmazonS3 client, S3TargetOptions options) : IObjectStore
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
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        OffsiteErrors.Guard($"delete {key}", () => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = _options.Prefix + key }, cancellationToken), cancellationToken);

    /// <summary>The Content-MD5 header's value: the store checks the body against it (integrity in transit, not security).</summary>
#pragma warning disable CA5351 // S3 defines Content-MD5; the content's SHA-256 is what proves it.
    private static string ContentMd5(ReadOnlySpan<byte> content) => Convert.ToBase64String(MD5.HashData(content));
#pragma warning restore CA5351

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
