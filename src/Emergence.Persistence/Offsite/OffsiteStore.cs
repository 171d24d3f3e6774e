using System.Buffers;
using System.Text;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// The off-volume container: backups stored as block blobs named like the local files, each followed
/// by its manifest blob (<c>NAME.json</c>). A backup's blocks are staged in parallel while the file is
/// hashed in order, and committed only when the SHA-256 matches the manifest; the manifest blob is
/// written last, so a backup without one is incomplete and ignored, as on the volume.
/// </summary>
public sealed class OffsiteStore
{
    /// <summary>The metadata key holding the blob's lowercase hex SHA-256.</summary>
    public const string ChecksumMetadataKey = "sha256";

    /// <summary>Bytes per staged block.</summary>
    public const int BlockSize = 8 << 20;

    /// <summary>Blocks in flight at once, per upload or download.</summary>
    public const int Concurrency = 4;

    private readonly BlobContainerClient _container;
    private readonly BackupNaming _naming;

    /// <summary>Creates the store for the backups of <paramref name="databasePath"/> in <paramref name="container"/>.</summary>
    public OffsiteStore(BlobContainerClient container, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(container);
        _container = container;
        _naming = new BackupNaming(databasePath);
    }

    /// <summary>The container's name.</summary>
    public string Container => _container.Name;

    /// <summary>Where the container is, for messages: the endpoint and container, never a key or token.</summary>
    public string Describe() => $"{_container.Uri.GetLeftPart(UriPartial.Path)}";

    /// <summary>Backups in the container, newest first, each with its manifest when it has a readable one.</summary>
    /// <exception cref="OffsiteUnavailableException">The container cannot be listed.</exception>
    public async Task<IReadOnlyList<OffsiteBackup>> ListAsync(CancellationToken cancellationToken = default) =>
        (await ScanAsync(cancellationToken).ConfigureAwait(false)).Backups;

    /// <summary>
    /// Lists the container once: its backups, newest first, with their manifests, and the manifest blobs
    /// whose backup blob is missing (left by an interrupted rotation). A missing container holds nothing.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">The container cannot be listed.</exception>
    public async Task<OffsiteInventory> ScanAsync(CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, BlobItem>(StringComparer.Ordinal);
        var manifests = new HashSet<string>(StringComparer.Ordinal);
        await Guard("list the container", async () =>
        {
            if (!(await _container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
            {
                return;
            }

            await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions(), cancellationToken).ConfigureAwait(false))
            {
                if (_naming.IsBackupName(item.Name))
                {
                    data[item.Name] = item;
                }
                else if (item.Name.EndsWith(BackupNaming.ManifestSuffix, StringComparison.Ordinal)
                    && _naming.IsBackupName(item.Name[..^BackupNaming.ManifestSuffix.Length]))
                {
                    manifests.Add(item.Name[..^BackupNaming.ManifestSuffix.Length]);
                }
            }
        }).ConfigureAwait(false);

        var backups = await Task.WhenAll(data.Values.Select(item => DescribeAsync(item, manifests.Contains(item.Name), cancellationToken))).ConfigureAwait(false);
        var stray = manifests.Where(name => !data.ContainsKey(name)).Select(BackupNaming.ManifestNameFor).Order(StringComparer.Ordinal).ToList();
        return new OffsiteInventory([.. backups.OrderByDescending(b => (b.Stamp, b.Sequence))], stray);
    }

    /// <summary>
    /// Uploads a verified local backup and then its manifest. The blocks are staged in parallel while
    /// the file is hashed in order; the block list is committed only when the hash and size match the
    /// manifest, and the committed blob's length and recorded SHA-256 are checked afterwards.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A request failed, or the file does not match its manifest.</exception>
    public async Task<OffsiteBackup> UploadAsync(BackupEntry backup, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var manifest = backup.Manifest ?? throw new ArgumentException($"Backup {backup.Name} has no manifest; only verified backups are copied off the volume.", nameof(backup));
        var manifestBytes = Platform.RegularFile.ReadSmall(backup.ManifestPath);
        await Guard("create the container", () => _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);

        var blob = _container.GetBlockBlobClient(backup.Name);
        var (checksum, size, blockIds) = await StageBlocksAsync(blob, backup.Path, progress, cancellationToken).ConfigureAwait(false);
        if (size != manifest.Size || !string.Equals(checksum, manifest.Checksum, StringComparison.Ordinal))
        {
            throw new OffsiteUnavailableException($"{backup.Name} changed while it was uploaded: read {size} bytes with SHA-256 {checksum}, the manifest says {manifest.Size} bytes, {manifest.Checksum}. Nothing was committed.");
        }

        var commit = new CommitBlockListOptions
        {
            Metadata = new Dictionary<string, string>
            {
                [ChecksumMetadataKey] = checksum,
                ["timestamp"] = UtcSecondsConverter.Format(manifest.Timestamp),
            },
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
        };
        await Guard($"commit {backup.Name}", () => blob.CommitBlockListAsync(blockIds, commit, cancellationToken)).ConfigureAwait(false);

        var (properties, stored, matches) = await ReadBackAsync(blob, manifest.Size, manifest.Checksum, cancellationToken).ConfigureAwait(false);
        if (!matches)
        {
            throw new OffsiteUnavailableException($"the committed blob {backup.Name} does not match its manifest ({properties.ContentLength} bytes, sha256 '{stored}'); its manifest was not uploaded.");
        }

        var manifestBlob = _container.GetBlobClient(BackupNaming.ManifestNameFor(backup.Name));
        await Guard($"upload the manifest of {backup.Name}", () => manifestBlob.UploadAsync(new BinaryData(manifestBytes), overwrite: true, cancellationToken)).ConfigureAwait(false);
        return new OffsiteBackup
        {
            Name = backup.Name,
            Stamp = backup.Stamp,
            Sequence = backup.Sequence,
            Size = properties.ContentLength,
            UploadedAt = properties.LastModified,
            Manifest = manifest,
        };
    }

    /// <summary>
    /// Downloads <paramref name="backup"/> into the new file <paramref name="destination"/> (fsynced),
    /// decompressing a <c>.br</c> backup on the way; returns the SHA-256 and size of the stored blob and
    /// the SHA-256 of the database written. Checking them against the manifest is the caller's.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">The download failed.</exception>
    /// <exception cref="IOException">The destination cannot be written, or a compressed blob is damaged.</exception>
    public async Task<(string Checksum, long Size, string Content)> DownloadAsync(OffsiteBackup backup, string destination, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var blob = _container.GetBlobClient(backup.Name);
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        (string Checksum, long Size, string Content) result;
        if (BackupNaming.IsCompressed(backup.Name))
        {
            var response = await Guard($"download {backup.Name}", () => blob.DownloadStreamingAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);
            await using var content = response.Value.Content;
            progress?.Report(new OperationProgress("download", 0, backup.Size));
            result = await Guard($"download {backup.Name}", () => BackupStreams.DecompressAsync(content, output, cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            using var hash = new Sha256();
            await using var hashing = new HashingStream(output, hash);
            var options = new BlobDownloadToOptions
            {
                TransferOptions = new StorageTransferOptions { MaximumConcurrency = Concurrency, InitialTransferSize = BlockSize, MaximumTransferSize = BlockSize },
                ProgressHandler = progress is null ? null : new Progress<long>(done => progress.Report(new OperationProgress("download", done, backup.Size))),
            };
            await Guard($"download {backup.Name}", () => blob.DownloadToAsync(hashing, options, cancellationToken)).ConfigureAwait(false);
            var checksum = hash.Finish();
            result = (checksum, hashing.Count, checksum);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        output.Flush(flushToDisk: true);
        return result;
    }

    /// <summary>Deletes a backup's manifest blob first (so what is left is visibly incomplete), then the backup blob.</summary>
    /// <exception cref="OffsiteUnavailableException">A delete failed.</exception>
    public async Task DeleteAsync(string backupName, CancellationToken cancellationToken = default)
    {
        await Guard($"delete {backupName}", () => _container.DeleteBlobIfExistsAsync(BackupNaming.ManifestNameFor(backupName), DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await Guard($"delete {backupName}", () => _container.DeleteBlobIfExistsAsync(backupName, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Deletes one blob by name.</summary>
    /// <exception cref="OffsiteUnavailableException">The delete failed.</exception>
    public Task DeleteBlobAsync(string blobName, CancellationToken cancellationToken = default) =>
        Guard($"delete {blobName}", () => _container.DeleteBlobIfExistsAsync(blobName, DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken));

    /// <summary>A blob as one listing gives it: its name, size and metadata.</summary>
    /// <param name="Name">The blob's name.</param>
    /// <param name="Size">Its length in bytes.</param>
    /// <param name="Metadata">Its metadata (keys are lowercase).</param>
    public sealed record ListedBlob(string Name, long Size, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Every blob whose name starts with <paramref name="prefix"/>, with its metadata, in one listing; a missing container holds none.</summary>
    /// <exception cref="OffsiteUnavailableException">The container cannot be listed.</exception>
    public async Task<IReadOnlyList<ListedBlob>> ListUnderAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var found = new List<ListedBlob>();
        await Guard($"list {prefix}", async () =>
        {
            if (!(await _container.ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
            {
                return;
            }

            var listing = new GetBlobsOptions { Prefix = prefix, Traits = BlobTraits.Metadata };
            await foreach (var item in _container.GetBlobsAsync(listing, cancellationToken).ConfigureAwait(false))
            {
                found.Add(new ListedBlob(item.Name, item.Properties.ContentLength ?? 0, item.Metadata is { } metadata ? new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase) : new Dictionary<string, string>()));
            }
        }).ConfigureAwait(false);
        return found;
    }

    /// <summary>
    /// Uploads a small file as one blob in a single request (so the blob appears whole or not at all), with the
    /// content's MD5 checked by the service, and <paramref name="metadata"/> plus its SHA-256 recorded. The file
    /// must hash to <paramref name="checksum"/> (when given) before anything is sent, and the stored blob's length and recorded
    /// SHA-256 are read back afterwards.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A request failed, or the file or the stored blob does not match.</exception>
    public async Task UploadSmallAsync(string blobName, string path, string? checksum, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        checksum ??= actual;
        if (!string.Equals(actual, checksum, StringComparison.Ordinal))
        {
            throw new OffsiteUnavailableException($"{Path.GetFileName(path)} does not match its manifest (SHA-256 {actual}, expected {checksum}); it was not uploaded.");
        }

        var blob = _container.GetBlobClient(blobName);
        var options = new BlobUploadOptions
        {
            Metadata = new Dictionary<string, string>(metadata) { [ChecksumMetadataKey] = checksum },
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            TransferOptions = new StorageTransferOptions { InitialTransferSize = Math.Max(bytes.Length, 1), MaximumTransferSize = Math.Max(bytes.Length, 1) },
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        };
        Task Upload() => Guard($"upload {blobName}", () => blob.UploadAsync(new BinaryData(bytes), options, cancellationToken));
        try
        {
            await Upload().ConfigureAwait(false);
        }
        catch (OffsiteUnavailableException ex) when (ex.InnerException is RequestFailedException { Status: 404 })
        {
            // The first blob in a container that does not exist yet.
            await Guard("create the container", () => _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken)).ConfigureAwait(false);
            await Upload().ConfigureAwait(false);
        }

        var (properties, stored, matches) = await ReadBackAsync(blob, bytes.Length, checksum, cancellationToken).ConfigureAwait(false);
        if (!matches)
        {
            throw new OffsiteUnavailableException($"the stored blob {blobName} does not match what was sent ({properties.ContentLength} bytes, sha256 '{stored}'; sent {bytes.Length} bytes, {checksum}).");
        }
    }

    /// <summary>Downloads one blob into the new file <paramref name="destination"/> (fsynced); returns whether the blob existed.</summary>
    /// <exception cref="OffsiteUnavailableException">The download failed for another reason than a missing blob.</exception>
    public async Task<bool> DownloadSmallAsync(string blobName, string destination, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await Guard($"download {blobName}", () => _container.GetBlobClient(blobName).DownloadToAsync(output, cancellationToken)).ConfigureAwait(false);
            output.Flush(flushToDisk: true);
            return true;
        }
        catch (OffsiteUnavailableException ex) when (ex.InnerException is RequestFailedException { Status: 404 })
        {
            File.Delete(destination);
            return false;
        }
    }

    /// <summary>A request failure in one line: what was being done, the status and error code, the first line of the message.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[^1] : exception;
        var first = FirstLine(inner.Message);
        return inner switch
        {
            RequestFailedException { Status: > 0 } failed => $"HTTP {failed.Status} {failed.ErrorCode}: {first}",
            _ when inner.InnerException is { } cause && FirstLine(cause.Message) is var detail && !first.Contains(detail, StringComparison.Ordinal) => $"{first} ({detail})",
            _ => first,
        };
    }

    private async Task<OffsiteBackup> DescribeAsync(BlobItem item, bool hasManifest, CancellationToken cancellationToken)
    {
        if (!_naming.TryParse(item.Name, out var stamp, out var sequence))
        {
            throw new ArgumentException($"{item.Name} is not a backup's name.", nameof(item));
        }

        BackupManifest? manifest = null;
        string? error = "it has no manifest (the upload never finished)";
        if (hasManifest)
        {
            var json = await Guard($"read the manifest of {item.Name}", () => _container.GetBlobClient(BackupNaming.ManifestNameFor(item.Name)).DownloadContentAsync(cancellationToken)).ConfigureAwait(false);
            manifest = BackupCatalog.ParseManifest(json.Value.Content.ToString(), item.Name, out error);
        }

        return new OffsiteBackup
        {
            Name = item.Name,
            Stamp = stamp,
            Sequence = sequence,
            Size = item.Properties.ContentLength ?? 0,
            UploadedAt = item.Properties.LastModified,
            Manifest = manifest,
            ManifestError = error,
        };
    }

    /// <summary>Reads a written blob's properties back: its length and recorded SHA-256, and whether both are what was meant to be stored.</summary>
    private static async Task<(BlobProperties Properties, string? Stored, bool Matches)> ReadBackAsync(BlobBaseClient blob, long size, string checksum, CancellationToken cancellationToken)
    {
        var properties = (await Guard($"read back {blob.Name}", () => blob.GetPropertiesAsync(cancellationToken: cancellationToken)).ConfigureAwait(false)).Value;
        var stored = properties.Metadata.TryGetValue(ChecksumMetadataKey, out var recorded) ? recorded : null;
        return (properties, stored, properties.ContentLength == size && string.Equals(stored, checksum, StringComparison.Ordinal));
    }

    private static async Task<(string Checksum, long Size, List<string> BlockIds)> StageBlocksAsync(BlockBlobClient blob, string path, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        using var hash = new Sha256();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Concurrency);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var total = file.Length;
        var ids = new List<string>();
        var staging = new List<Task>();
        long read = 0, sent = 0;
        var stageOptions = new BlockBlobStageBlockOptions
        {
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        };
        progress?.Report(new OperationProgress("upload", 0, total));
        try
        {
            while (!failed.IsCancellationRequested)
            {
                await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
                var length = await file.ReadAtLeastAsync(buffer.AsMemory(0, BlockSize), BlockSize, throwOnEndOfStream: false, failed.Token).ConfigureAwait(false);
                if (length == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    slots.Release();
                    break;
                }

                hash.Append(buffer.AsSpan(0, length));
                read += length;
                var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"block-{ids.Count:D8}"));
                ids.Add(id);
                staging.Add(StageAsync(id, buffer, length));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A block failed and cancelled the rest; its exception is reported below.
        }
        catch
        {
            // Cancelled by the caller, or the file could not be read: stop the blocks in flight and wait
            // for them, so none still holds a pooled buffer, a slot or the token when they are disposed.
            await failed.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(staging).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        await Guard($"upload {blob.Name}", () => Task.WhenAll(staging)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return (hash.Finish(), read, ids);

        async Task StageAsync(string id, byte[] buffer, int length)
        {
            try
            {
                using var content = new MemoryStream(buffer, 0, length, writable: false);
                await blob.StageBlockAsync(id, content, stageOptions, failed.Token).ConfigureAwait(false);
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

    private static async Task Guard(string doing, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRequestFailure(ex))
        {
            throw new OffsiteUnavailableException($"cannot {doing}: {Describe(ex)}", ex);
        }
    }

    private static async Task<T> Guard<T>(string doing, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRequestFailure(ex))
        {
            throw new OffsiteUnavailableException($"cannot {doing}: {Describe(ex)}", ex);
        }
    }

    private static bool IsRequestFailure(Exception ex) =>
        ex is RequestFailedException or AggregateException or HttpRequestException or TimeoutException
        || (ex is OperationCanceledException && ex.InnerException is not null)
        || (ex is IOException && ex is not FileNotFoundException);

    private static string FirstLine(string text)
    {
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        return (end < 0 ? line : line[..end]).ToString();
    }
}
