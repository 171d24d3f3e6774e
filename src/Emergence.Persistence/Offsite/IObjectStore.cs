using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// What the off-volume code needs from an object store: named objects with metadata, created whole or not at
/// all, read back, listed by prefix, downloaded and deleted. An implementation only moves bytes and names
/// (Azure Blob Storage, S3); what to upload, prune, download and verify is decided once, over this, by
/// <see cref="OffsiteStore"/> and the history's layout. Every method throws <see cref="OffsiteUnavailableException"/>
/// for a request that failed after the implementation's own retries, each try bounded in time.
/// </summary>
public interface IObjectStore
{
    /// <summary>The kind of store, as settings and health name it: <c>azure</c> or <c>s3</c>.</summary>
    string Kind { get; }

    /// <summary>The container's or bucket's name (with its key prefix, if any).</summary>
    string Name { get; }

    /// <summary>Where the store is, for messages: endpoint and container or bucket, never a key or token.</summary>
    string Describe();

    /// <summary>
    /// Writes <paramref name="content"/> as the object <paramref name="key"/> in one request, with its MD5 checked
    /// by the store. With <paramref name="createOnly"/>, the write is conditional (<c>If-None-Match: *</c>) where
    /// the store supports it, and returns <see langword="false"/> when the object already existed.
    /// </summary>
    Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> metadata, bool createOnly, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the file at <paramref name="path"/> as the object <paramref name="key"/> in parts of at most
    /// <see cref="FileParts.PartSize"/> bytes sent a few at a time, hashing it in order; the object is committed
    /// only when the file read matches <paramref name="expected"/>, so nothing half-written or changed is ever
    /// visible. <paramref name="createOnly"/> as for <see cref="PutAsync"/>.
    /// </summary>
    Task<bool> PutFileAsync(string key, string path, FileParts.Expected expected, IReadOnlyDictionary<string, string> metadata, bool createOnly, IProgress<OperationProgress>? progress, CancellationToken cancellationToken);

    /// <summary>An object's size, time and metadata, read back from the store; <see langword="null"/> when it does not exist.</summary>
    Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, with its metadata when <paramref name="withMetadata"/>; a missing container holds none.</summary>
    Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, bool withMetadata, CancellationToken cancellationToken);

    /// <summary>
    /// Copies the object into <paramref name="destination"/>, in order, fetching ranges of it in parallel;
    /// returns <see langword="false"/> (having written nothing) when it does not exist.
    /// </summary>
    Task<bool> DownloadToAsync(string key, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken);

    /// <summary>Opens the object for reading from its start; <see langword="null"/> when it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the object; one that does not exist is no error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>An object as the store describes it.</summary>
/// <param name="Key">Its key (without the store's prefix).</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="LastModified">When it was written.</param>
/// <param name="Metadata">Its metadata, keys compared case-insensitively (empty when not asked for).</param>
public sealed record StoredObject(string Key, long Size, DateTimeOffset? LastModified, IReadOnlyDictionary<string, string> Metadata);
