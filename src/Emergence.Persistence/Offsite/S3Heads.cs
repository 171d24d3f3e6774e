using System.Collections.Concurrent;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// The metadata of S3 objects a store has written or read, by key, ETag and size. S3 lists no metadata, so without
/// it every listing that needs metadata reads every object's head; an object is never rewritten in place here, and
/// a rewrite would change its ETag, so what is known under the ETag a listing shows is what a head would say.
/// Bounded: cleared past <see cref="Limit"/> objects.
/// </summary>
internal sealed class S3Heads
{
    /// <summary>How many objects are kept before the cache starts again.</summary>
    public const int Limit = 100_000;

    private readonly ConcurrentDictionary<(string Key, string ETag, long Size), IReadOnlyDictionary<string, string>> _known = new();

    /// <summary>The metadata known for the object listed as <paramref name="key"/> with <paramref name="etag"/> and <paramref name="size"/>.</summary>
    public bool TryGet(string key, string? etag, long size, out IReadOnlyDictionary<string, string> metadata)
    {
        if (etag is not null && _known.TryGetValue((key, etag, size), out var found))
        {
            metadata = found;
            return true;
        }

        metadata = new Dictionary<string, string>();
        return false;
    }

    /// <summary>Keeps the metadata of an object written or read.</summary>
    public void Remember(string key, string etag, long size, IReadOnlyDictionary<string, string> metadata)
    {
        if (_known.Count > Limit)
        {
            _known.Clear();
        }

        _known[(key, etag, size)] = metadata;
    }
}
