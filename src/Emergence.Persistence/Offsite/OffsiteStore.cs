using System.Security.Cryptography;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// The backups of one database in an off-volume target, whatever the store: each stored as an object named
/// like the local file, followed by its manifest object (<c>NAME.json</c>). A backup is sent in parts while
/// the file is hashed in order, and committed only when the SHA-256 matches the manifest; the stored object's
/// size and recorded SHA-256 are read back before the manifest is written, last, so a backup without one is
/// incomplete and ignored, as on the volume. Objects are created, never overwritten: where the store supports
/// conditional writes, an object that already exists is kept, and accepted only when it is the same content.
/// </summary>
public sealed partial class OffsiteStore
{
    /// <summary>The metadata key holding the object's lowercase hex SHA-256.</summary>
    public const string ChecksumMetadataKey = "sha256";

    /// <summary>Bytes per part of a large object.</summary>
    public const int BlockSize = FileParts.PartSize;

    /// <summary>Parts in flight at once, per upload or download.</summary>
    public const int Concurrency = FileParts.Concurrency;

    private readonly BackupNaming _naming;
    private readonly string _databasePath;

    /// <summary>Creates the store for the backups of <paramref name="databasePath"/> in <paramref name="objects"/>.</summary>
    public OffsiteStore(IObjectStore objects, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(objects);
        Objects = objects;
        _databasePath = databasePath;
        _naming = new BackupNaming(databasePath);
    }

    /// <summary>The same database's backups in <paramref name="objects"/>.</summary>
    public OffsiteStore On(IObjectStore objects) => new(objects, _databasePath);

    /// <summary>The object store underneath.</summary>
    public IObjectStore Objects { get; }

    /// <summary>The kind of target: <c>azure</c> or <c>s3</c>.</summary>
    public string Kind => Objects.Kind;

    /// <summary>The container's or bucket's name.</summary>
    public string Container => Objects.Name;

    /// <summary>Where the target is, for messages: the endpoint and container or bucket, never a key or token.</summary>
    public string Describe() => Objects.Describe();

    /// <summary>
    /// Uploads a verified local backup and then its manifest. The parts are sent while the file is hashed in
    /// order; the object is committed only when the hash and size match the manifest, and the committed object's
    /// length and recorded SHA-256 are checked afterwards.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A request failed, or the file does not match its manifest.</exception>
    public async Task<OffsiteBackup> UploadAsync(BackupEntry backup, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var manifest = backup.Manifest ?? throw new ArgumentException($"Backup {backup.Name} has no manifest; only verified backups are copied off the volume.", nameof(backup));
        var manifestBytes = RegularFile.ReadSmall(backup.ManifestPath);
        var metadata = new Dictionary<string, string>
        {
            [ChecksumMetadataKey] = manifest.Checksum,
            ["timestamp"] = UtcSecondsConverter.Format(manifest.Timestamp),
        };
        var created = await Objects.PutFileAsync(backup.Name, backup.Path, new FileParts.Expected(manifest.Size, manifest.Checksum), metadata, createOnly: true, progress, cancellationToken).ConfigureAwait(false);
        var stored = await ReadBackAsync(backup.Name, manifest.Size, manifest.Checksum, created, cancellationToken).ConfigureAwait(false);
        await CreateVerifiedAsync(BackupNaming.ManifestNameFor(backup.Name), manifestBytes, new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
        return new OffsiteBackup
        {
            Name = backup.Name,
            Stamp = backup.Stamp,
            Sequence = backup.Sequence,
            Size = stored.Size,
            UploadedAt = stored.LastModified,
            Manifest = manifest,
        };
    }

    /// <summary>
    /// Downloads <paramref name="backup"/> into the new file <paramref name="destination"/> (fsynced),
    /// decompressing a <c>.br</c> backup on the way; returns the SHA-256 and size of the stored object and
    /// the SHA-256 of the database written. Checking them against the manifest is the caller's.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">The download failed, or the object has gone.</exception>
    /// <exception cref="IOException">The destination cannot be written, or a compressed object is damaged.</exception>
    public async Task<(string Checksum, long Size, string Content)> DownloadAsync(OffsiteBackup backup, string destination, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        (string Checksum, long Size, string Content) result;
        var missing = $"cannot download {backup.Name}: it is no longer in {Objects.Name}";
        if (BackupNaming.IsCompressed(backup.Name))
        {
            await using var content = await Objects.OpenReadAsync(backup.Name, cancellationToken).ConfigureAwait(false) ?? throw new OffsiteUnavailableException(missing);
            progress?.Report(new OperationProgress("download", 0, backup.Size));
            try
            {
                result = await BackupStreams.DecompressAsync(content, output, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (OffsiteErrors.IsRequestFailure(ex, cancellationToken) && ex is not InvalidDataException)
            {
                throw OffsiteErrors.Unavailable($"download {backup.Name}", ex);
            }
        }
        else
        {
            using var hash = new Sha256();
            await using var hashing = new HashingStream(output, hash);
            var reporter = progress is null ? null : new Progress<long>(done => progress.Report(new OperationProgress("download", done, backup.Size)));
            if (!await Objects.DownloadToAsync(backup.Name, hashing, reporter, cancellationToken).ConfigureAwait(false))
            {
                throw new OffsiteUnavailableException(missing);
            }

            var checksum = hash.Finish();
            result = (checksum, hashing.Count, checksum);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        output.Flush(flushToDisk: true);
        return result;
    }

    /// <summary>Deletes a backup's manifest object first (so what is left is visibly incomplete), then the backup object.</summary>
    /// <exception cref="OffsiteUnavailableException">A delete failed.</exception>
    public async Task DeleteAsync(string backupName, CancellationToken cancellationToken = default)
    {
        await Objects.DeleteAsync(BackupNaming.ManifestNameFor(backupName), cancellationToken).ConfigureAwait(false);
        await Objects.DeleteAsync(backupName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes one object by name.</summary>
    /// <exception cref="OffsiteUnavailableException">The delete failed.</exception>
    public Task DeleteBlobAsync(string blobName, CancellationToken cancellationToken = default) => Objects.DeleteAsync(blobName, cancellationToken);

    /// <summary>An object as one listing gives it: its name, size and metadata.</summary>
    /// <param name="Name">The object's name.</param>
    /// <param name="Size">Its length in bytes.</param>
    /// <param name="Metadata">Its metadata (keys compared case-insensitively).</param>
    public sealed record ListedBlob(string Name, long Size, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Every object whose name starts with <paramref name="prefix"/>, with its metadata; a missing container holds none.</summary>
    /// <exception cref="OffsiteUnavailableException">The target cannot be listed.</exception>
    public async Task<IReadOnlyList<ListedBlob>> ListUnderAsync(string prefix, CancellationToken cancellationToken = default) =>
        [.. (await Objects.ListAsync(prefix, withMetadata: true, cancellationToken).ConfigureAwait(false)).Select(o => new ListedBlob(o.Key, o.Size, o.Metadata))];

    /// <summary>
    /// Uploads a history file as one object, with <paramref name="metadata"/> plus its SHA-256 recorded. One of at
    /// most <see cref="FileParts.PartSize"/> bytes goes in a single request with its MD5 checked by the store, after it
    /// hashed to <paramref name="checksum"/> (when given); a larger one (the levels of a busy hour, a segment of a
    /// writer at full speed) goes in parts, hashed as it is read and committed only when it matches
    /// <paramref name="checksum"/>, so it is never held in memory whole. Either way it appears whole or not at all,
    /// and an object already there under that name is read back and must be the same.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A request failed, or the file or the stored object does not match.</exception>
    public async Task UploadFileAsync(string blobName, string path, string? checksum, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var length = new FileInfo(path).Length;
        if (length > FileParts.PartSize && checksum is not null)
        {
            var recorded = new Dictionary<string, string>(metadata) { [ChecksumMetadataKey] = checksum };
            if (!await Objects.PutFileAsync(blobName, path, new FileParts.Expected(length, checksum), recorded, createOnly: true, null, cancellationToken).ConfigureAwait(false))
            {
                await ReadBackAsync(blobName, length, checksum, created: false, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (checksum is not null && !string.Equals(actual, checksum, StringComparison.Ordinal))
        {
            throw new OffsiteUnavailableException($"{Path.GetFileName(path)} does not match its manifest (SHA-256 {actual}, expected {checksum}); it was not uploaded.");
        }

        await CreateVerifiedAsync(blobName, bytes, metadata, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads one object into the new file <paramref name="destination"/> (fsynced); returns whether the object existed.</summary>
    /// <exception cref="OffsiteUnavailableException">The download failed for another reason than a missing object.</exception>
    public async Task<bool> DownloadSmallAsync(string blobName, string destination, CancellationToken cancellationToken = default)
    {
        bool found;
        await using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            found = await Objects.DownloadToAsync(blobName, output, null, cancellationToken).ConfigureAwait(false);
            output.Flush(flushToDisk: true);
        }

        if (!found)
        {
            File.Delete(destination);
        }

        return found;
    }

    /// <summary>A request failure in one line: what was being done, the status and error code, the first line of the message.</summary>
    public static string Describe(Exception exception) => OffsiteErrors.Describe(exception);

    /// <summary>
    /// Creates a small object in one request. The store checked the content's MD5 before it answered, so a created
    /// object is what was sent and costs no second request; one that already exists (an earlier try whose answer was
    /// lost, or another deployment) is read back and accepted only when its size and recorded SHA-256 are what this
    /// one would have written.
    /// </summary>
    private async Task CreateVerifiedAsync(string key, byte[] bytes, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!await Objects.PutAsync(key, bytes, new Dictionary<string, string>(metadata) { [ChecksumMetadataKey] = checksum }, createOnly: true, cancellationToken).ConfigureAwait(false))
        {
            await ReadBackAsync(key, bytes.Length, checksum, created: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a written object's properties back and checks its length and recorded SHA-256.</summary>
    /// <exception cref="OffsiteUnavailableException">The object is missing or is not what was meant to be stored.</exception>
    private async Task<StoredObject> ReadBackAsync(string key, long size, string checksum, bool created, CancellationToken cancellationToken)
    {
        var stored = await Objects.GetAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new OffsiteUnavailableException($"the stored object {key} is missing right after it was written.");
        var recorded = stored.Metadata.TryGetValue(ChecksumMetadataKey, out var value) ? value : null;
        if (stored.Size == size && string.Equals(recorded, checksum, StringComparison.Ordinal))
        {
            return stored;
        }

        throw new OffsiteUnavailableException(created
            ? $"the stored object {key} does not match what was sent ({stored.Size} bytes, sha256 '{recorded}'; sent {size} bytes, {checksum})."
            : $"{key} already exists in {Objects.Name} with other content ({stored.Size} bytes, sha256 '{recorded}'; this copy is {size} bytes, {checksum}): it was not overwritten. Another deployment may be writing to the same place.");
    }
}
