using System.Collections.Concurrent;
using System.Security.Cryptography;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Offsite;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// An in-memory object store that enforces what s3rver does not: a conditional create (<c>If-None-Match: *</c>)
/// never replaces an existing object, and an unconditional write from the library is refused outright, since the
/// library must never overwrite. It records every write, so a test can see what was asked.
/// </summary>
public sealed class StrictObjectStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, (byte[] Content, Dictionary<string, string> Metadata, DateTimeOffset At)> _objects = new(StringComparer.Ordinal);

    /// <summary>Every write asked for: its key and whether it was conditional.</summary>
    public ConcurrentQueue<(string Key, bool CreateOnly)> Writes { get; } = new();

    /// <inheritdoc />
    public string Kind => "strict";

    /// <inheritdoc />
    public string Name => "strict";

    /// <inheritdoc />
    public string Describe() => "memory://strict";

    /// <summary>Puts an object there as another writer would, whatever is there.</summary>
    public void Plant(string key, byte[] content, IReadOnlyDictionary<string, string> metadata) =>
        _objects[key] = (content, new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase), DateTimeOffset.UnixEpoch);

    /// <summary>An object's content, or <see langword="null"/>.</summary>
    public byte[]? Content(string key) => _objects.TryGetValue(key, out var found) ? found.Content : null;

    /// <inheritdoc />
    public Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> metadata, bool createOnly, CancellationToken cancellationToken)
    {
        Writes.Enqueue((key, createOnly));
        if (!createOnly)
        {
            throw new InvalidOperationException($"unconditional write of {key}: the library must never overwrite an object");
        }

        return Task.FromResult(_objects.TryAdd(key, (content.ToArray(), new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase), DateTimeOffset.UnixEpoch)));
    }

    /// <inheritdoc />
    public async Task<bool> PutFileAsync(string key, string path, FileParts.Expected expected, IReadOnlyDictionary<string, string> metadata, bool createOnly, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var content = await File.ReadAllBytesAsync(path, cancellationToken);
        FileParts.Check(key, expected, Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);
        return await PutAsync(key, content, metadata, createOnly, cancellationToken);
    }

    /// <inheritdoc />
    public Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_objects.TryGetValue(key, out var found) ? new StoredObject(key, found.Content.Length, found.At, found.Metadata) : null);

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, bool withMetadata, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredObject>>([.. _objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal)
            .Select(o => new StoredObject(o.Key, o.Value.Content.Length, o.Value.At, withMetadata ? o.Value.Metadata : new Dictionary<string, string>()))]);

    /// <inheritdoc />
    public async Task<bool> DownloadToAsync(string key, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        if (!_objects.TryGetValue(key, out var found))
        {
            return false;
        }

        await destination.WriteAsync(found.Content, cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult<Stream?>(_objects.TryGetValue(key, out var found) ? new MemoryStream(found.Content, writable: false) : null);

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        _objects.TryRemove(key, out _);
        return Task.CompletedTask;
    }
}
