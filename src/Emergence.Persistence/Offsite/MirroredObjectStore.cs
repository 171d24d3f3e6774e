using System.Security.Cryptography;
using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Two (or more) targets read as one, for restores and drills: a listing is the union of theirs (each name from
/// the first target that has it), and an object is read from the first target that has it whole. A small object
/// (a segment, a record, a manifest) is checked against the SHA-256 recorded with it before it is handed on, and
/// taken from the next target when it is missing, damaged or its target does not answer; a backup is checked by
/// <see cref="BackupDownloader"/>, which tries each target in turn. A target that does not answer is left out as
/// long as another does. Writes and deletions go to every target.
/// </summary>
public sealed class MirroredObjectStore : IObjectStore
{
    /// <summary>Objects up to this size are read into memory and checked before they are handed on.</summary>
    public const long CheckedInMemory = 64L << 20;

    private readonly Lock _gate = new();
    private readonly List<IObjectStore> _used = [];

    /// <summary>Reads <paramref name="targets"/> as one, preferring them in this order.</summary>
    public MirroredObjectStore(IReadOnlyList<IObjectStore> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            throw new ArgumentException("At least one target is needed.", nameof(targets));
        }

        Targets = targets;
    }

    /// <summary>The targets, in order of preference.</summary>
    public IReadOnlyList<IObjectStore> Targets { get; }

    /// <summary>The targets that have given an object so far, in the order they first did.</summary>
    public IReadOnlyList<IObjectStore> Used
    {
        get
        {
            lock (_gate)
            {
                return [.. _used];
            }
        }
    }

    /// <inheritdoc />
    public string Kind => string.Join('+', Targets.Select(t => t.Kind));

    /// <summary>The targets that have given the objects read so far (what a restore says it used), else all of them: <c>KIND:NAME</c> joined with <c>+</c>.</summary>
    public string Name => string.Join('+', (Used is { Count: > 0 } used ? used : Targets).Select(t => $"{t.Kind}:{t.Name}"));

    /// <inheritdoc />
    public string Describe() => string.Join(" + ", Targets.Select(t => t.Describe()));

    /// <summary>Notes that <paramref name="target"/> gave an object.</summary>
    public void MarkUsed(IObjectStore target)
    {
        lock (_gate)
        {
            if (!_used.Contains(target))
            {
                _used.Add(target);
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> PutAsync(string key, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string> metadata, bool createOnly, CancellationToken cancellationToken)
    {
        var created = true;
        foreach (var target in Targets)
        {
            created &= await target.PutAsync(key, content, metadata, createOnly, cancellationToken).ConfigureAwait(false);
        }

        return created;
    }

    /// <inheritdoc />
    public async Task<bool> PutFileAsync(string key, string path, FileParts.Expected expected, IReadOnlyDictionary<string, string> metadata, bool createOnly, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var created = true;
        foreach (var target in Targets)
        {
            created &= await target.PutFileAsync(key, path, expected, metadata, createOnly, progress, cancellationToken).ConfigureAwait(false);
        }

        return created;
    }

    /// <inheritdoc />
    public async Task<StoredObject?> GetAsync(string key, CancellationToken cancellationToken)
    {
        foreach (var (target, found) in await AnswersAsync(t => t.GetAsync(key, cancellationToken)).ConfigureAwait(false))
        {
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, bool withMetadata, CancellationToken cancellationToken)
    {
        var union = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        foreach (var (_, listing) in await AnswersAsync(t => t.ListAsync(prefix, withMetadata, cancellationToken)).ConfigureAwait(false))
        {
            foreach (var item in listing)
            {
                union.TryAdd(item.Key, item);
            }
        }

        return [.. union.Values.OrderBy(o => o.Key, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<bool> DownloadToAsync(string key, Stream destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[]? damaged = null;
        IObjectStore? damagedIn = null;
        foreach (var (target, stored) in await AnswersAsync(t => t.GetAsync(key, cancellationToken)).ConfigureAwait(false))
        {
            if (stored is null)
            {
                continue;
            }

            if (stored.Size > CheckedInMemory)
            {
                // A backup: checked against its manifest by the caller, which tries each target in turn.
                MarkUsed(target);
                return await target.DownloadToAsync(key, destination, progress, cancellationToken).ConfigureAwait(false);
            }

            using var buffer = new MemoryStream();
            try
            {
                if (!await target.DownloadToAsync(key, buffer, null, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
            }
            catch (OffsiteUnavailableException)
            {
                continue; // That target stopped answering: the next one may have it.
            }

            var bytes = buffer.ToArray();
            var recorded = stored.Metadata.TryGetValue(OffsiteStore.ChecksumMetadataKey, out var value) ? value : null;
            if (recorded is null || string.Equals(recorded, Convert.ToHexStringLower(SHA256.HashData(bytes)), StringComparison.Ordinal))
            {
                MarkUsed(target);
                await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                progress?.Report(bytes.Length);
                return true;
            }

            (damaged, damagedIn) = (damaged ?? bytes, damagedIn ?? target);
        }

        if (damaged is null)
        {
            return false;
        }

        // Damaged everywhere it is: handed on as it is, so the check downstream names what is wrong with it.
        MarkUsed(damagedIn!);
        await destination.WriteAsync(damaged, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        foreach (var (target, stored) in await AnswersAsync(t => t.GetAsync(key, cancellationToken)).ConfigureAwait(false))
        {
            if (stored is not null && await target.OpenReadAsync(key, cancellationToken).ConfigureAwait(false) is { } stream)
            {
                MarkUsed(target);
                return stream;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        foreach (var target in Targets)
        {
            await target.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Each target's answer, in order, leaving out the targets that do not answer; throws only when none does.</summary>
    /// <exception cref="OffsiteUnavailableException">No target answered.</exception>
    private async Task<List<(IObjectStore Target, T Answer)>> AnswersAsync<T>(Func<IObjectStore, Task<T>> ask)
    {
        var answers = new List<(IObjectStore, T)>();
        var failures = new List<string>();
        foreach (var target in Targets)
        {
            try
            {
                answers.Add((target, await ask(target).ConfigureAwait(false)));
            }
            catch (OffsiteUnavailableException ex)
            {
                failures.Add($"{target.Kind} {target.Name}: {ex.Message}");
            }
        }

        return answers.Count > 0 || failures.Count == 0 ? answers : throw new OffsiteUnavailableException(string.Join("; ", failures));
    }
}
