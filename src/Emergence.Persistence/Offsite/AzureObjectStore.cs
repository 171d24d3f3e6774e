using System.Text;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// An Azure Blob Storage container as an object store: block blobs, parts staged as blocks and committed as a
/// block list, conditional creation with <c>If-None-Match: *</c>. The container is created when missing.
/// Retries and the time bound of each try are the client's (see the library's service registration).
/// </summary>
public sealed class AzureObjectStore(BlobContainerClient container) : IObjectStore
{
    private readonly BlobContainerClient _container = container ?? throw new ArgumentNullException(nameof(container));

    /// <inheritdoc />
    public string Kind => "azure";

    /// <inheritdoc />
    public string Name => _container.Name;

    /// <inheritdoc />
    public string Describe() => _container.Uri.GetLeftPart(UriPartial.Path);

    /// <inheritdoc />
    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> metadata, bool createOnly, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(key);
        var options = new BlobUploadOptions
        {
            Metadata = new Dictionary<string, string>(metadata),
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
            Conditions = createOnly ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null,
        };
        Task<bool> Upload() => Created($"upload {key}", () => blob.UploadAsync(new BinaryData(content), options, cancellationToken), cancellationToken);
        try
        {
            return await Upload().ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex) when (ex.InnerException is RequestFailedException { Status: 404 })
        {
            // The first object in a container that does not exist yet.
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            return await Upload().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<bool> PutFileAsync(string key, string path, FileParts.Expected expected, IReadOnlyDictionary<string, string> metadata, bool createOnly, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var blob = _container.GetBlockBlobClient(key);
        var stage = new BlockBlobStageBlockOptions { TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 } };
        var (checksum, size, parts) = await OffsiteErrors.Guard($"upload {key}", () => FileParts.SendAsync(path, async (number, part, ct) =>
        {
            using var content = new MemoryStream(part.ToArray(), writable: false);
            await blob.StageBlockAsync(BlockId(number), content, stage, ct).ConfigureAwait(false);
        }, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        FileParts.Check(key, expected, checksum, size);
        var commit = new CommitBlockListOptions
        {
            Metadata = new Dictionary<string, string>(metadata),
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            Conditions = createOnly ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null,
        };
        return await Created($"commit {key}", () => blob.CommitBlockListAsync(Enumerable.Range(1, parts).Select(BlockId), commit, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return new StoredObject(key, properties.ContentLength, properties.LastModified, new Dictionary<string, string>(properties.Metadata, StringComparer.OrdinalIgnoreCase));
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex, cancellationToken))
        {
            throw OffsiteErrors.Unavailable($"read back {key}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, bool withMetadata, CancellationToken cancellationToken)
    {
        var found = new List<StoredObject>();
        await OffsiteErrors.Guard($"list {(prefix.Length == 0 ? "the container" : prefix)}", async () =>
        {
            if (!(await _container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
            {
                return;
            }

            var listing = new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix, Traits = withMetadata ? BlobTraits.Metadata : BlobTraits.None };
            await foreach (var item in _container.GetBlobsAsync(listing, cancellationToken).ConfigureAwait(false))
            {
                var metadata = item.Metadata is { } given ? new Dictionary<string, string>(given, StringComparer.OrdinalIgnoreCase) : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                found.Add(new StoredObject(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified, metadata));
            }
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    /// <inheritdoc />
    public async Task<bool> DownloadToAsync(string key, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var options = new BlobDownloadToOptions
        {
            TransferOptions = new StorageTransferOptions { MaximumConcurrency = FileParts.Concurrency, InitialTransferSize = FileParts.PartSize, MaximumTransferSize = FileParts.PartSize },
            ProgressHandler = progress,
        };
        try
        {
            await _container.GetBlobClient(key).DownloadToAsync(destination, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
        catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex, cancellationToken))
        {
            throw OffsiteErrors.Unavailable($"download {key}", ex);
        }
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _container.GetBlobClient(key).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
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
        OffsiteErrors.Guard($"delete {key}", () => _container.DeleteBlobIfExistsAsync(key, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken), cancellationToken);

    private async Task EnsureContainerAsync(CancellationToken cancellationToken) =>
        await OffsiteErrors.Guard("create the container", () => _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);

    private static string BlockId(int number) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"block-{number - 1:D8}"));

    /// <summary>Runs a conditional write: <see langword="false"/> when the blob already existed.</summary>
    private static async Task<bool> Created<T>(string doing, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            await write().ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 && ex.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" or "TargetConditionNotMet")
        {
            return false;
        }
        catch (Exception ex) when (OffsiteErrors.Translates(ex, cancellationToken))
        {
            throw OffsiteErrors.Translate(doing, ex, cancellationToken);
        }
    }

}
