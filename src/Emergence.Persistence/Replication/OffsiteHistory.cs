using System.Text;
using System.Text.Json;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Replication;

/// <summary>
/// Replication's history in the off-volume container, laid out as under the backup directory:
/// <c>replication/&lt;generation&gt;/generation.json</c> and <c>replication/&lt;generation&gt;/NNNNNNNNNN.frames</c>.
/// Each blob is written in one request, so it is whole or absent, and carries its record in the metadata key
/// <c>manifest</c> (base64 of the same JSON as on the volume) beside <c>sha256</c>, so one listing reads the
/// whole timeline. A segment blob is written only once its generation's blob is there.
/// </summary>
public sealed class OffsiteHistory(OffsiteStore store, string databasePath)
{
    /// <summary>The metadata key holding the blob's record, base64-encoded JSON.</summary>
    public const string ManifestMetadataKey = "manifest";

    /// <summary>The prefix of every replication blob.</summary>
    public const string Prefix = ReplicationStore.DirectoryName + "/";

    /// <summary>The store the blobs are in.</summary>
    public OffsiteStore Store { get; } = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>A generation's record blob.</summary>
    public static string GenerationBlob(string generation) => $"{Prefix}{generation}/{ReplicationStore.GenerationFileName}";

    /// <summary>A segment's blob.</summary>
    public static string SegmentBlob(string generation, long sequence) => $"{Prefix}{generation}/{ReplicationStore.SegmentName(sequence)}";

    /// <summary>A history file's object name (a segment's, or a level file's): <c>replication/&lt;generation&gt;/&lt;file&gt;</c>.</summary>
    public static string FileBlob(SegmentManifest manifest) => $"{Prefix}{manifest?.Generation}/{manifest?.Filename}";

    /// <summary>The container's replication history: generations oldest first, and each one's segments in order, each <see cref="HistoryFile.InContainer"/> (its <see cref="HistoryFile.ObjectName"/> the blob's name).</summary>
    /// <param name="Generations">The generations of this database whose record reads.</param>
    /// <param name="Segments">Each generation's segments.</param>
    /// <param name="Blobs">Every replication blob's name, by generation (to delete a generation whole).</param>
    public sealed record Listing(IReadOnlyList<GenerationManifest> Generations, IReadOnlyDictionary<string, IReadOnlyList<HistoryFile>> Segments, IReadOnlyDictionary<string, IReadOnlyList<string>> Blobs)
    {
        /// <summary>Each generation's level files in the container, by level then first segment.</summary>
        public IReadOnlyDictionary<string, IReadOnlyList<HistoryFile>> Levels { get; init; } = new Dictionary<string, IReadOnlyList<HistoryFile>>();

        /// <summary>A generation's level files in the container.</summary>
        public IReadOnlyList<HistoryFile> LevelsOf(string generation) => Levels.TryGetValue(generation, out var found) ? found : [];

        /// <summary>Every history file of a generation in the container: its segments, then its level files.</summary>
        public IReadOnlyList<HistoryFile> FilesOf(string generation) => [.. SegmentsOf(generation), .. LevelsOf(generation)];

        /// <summary>A generation's segments, in order (none for an unknown one).</summary>
        public IReadOnlyList<HistoryFile> SegmentsOf(string generation) => Segments.TryGetValue(generation, out var found) ? found : [];
    }

    /// <summary>Lists the history in one request (paged by the service).</summary>
    /// <exception cref="OffsiteUnavailableException">The container cannot be listed.</exception>
    public async Task<Listing> ListAsync(CancellationToken cancellationToken = default)
    {
        var blobs = await Store.ListUnderAsync(Prefix, cancellationToken).ConfigureAwait(false);
        var generations = new SortedDictionary<string, GenerationManifest>(StringComparer.Ordinal);
        var segments = new Dictionary<string, SortedDictionary<long, HistoryFile>>(StringComparer.Ordinal);
        var names = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var levels = new Dictionary<string, List<HistoryFile>>(StringComparer.Ordinal);
        foreach (var blob in blobs)
        {
            var parts = blob.Name[Prefix.Length..].Split('/');
            if (parts.Length != 2)
            {
                continue;
            }

            var (generation, file) = (parts[0], parts[1]);
            Of(names, generation).Add(blob.Name);
            if (file == ReplicationStore.GenerationFileName)
            {
                if (Record<GenerationManifest>(blob) is { } manifest && manifest.Id == generation && string.Equals(manifest.DatabasePath, databasePath, StringComparison.Ordinal))
                {
                    generations[generation] = manifest;
                }
            }
            else if (ReplicationStore.TryParseSegmentName(file, out var sequence))
            {
                Of(segments, generation)[sequence] = SegmentIn(blob, generation, sequence);
            }
            else if (ReplicationStore.TryParseLevelName(file, out var level, out var first, out var last))
            {
                Of(levels, generation).Add(LevelFileIn(blob, generation, file, level, first, last));
            }
        }

        return new Listing(
            [.. generations.Values],
            segments.Where(s => generations.ContainsKey(s.Key)).ToDictionary(s => s.Key, s => (IReadOnlyList<HistoryFile>)[.. s.Value.Values], StringComparer.Ordinal),
            names.ToDictionary(n => n.Key, n => (IReadOnlyList<string>)n.Value, StringComparer.Ordinal))
        {
            Levels = levels.Where(l => generations.ContainsKey(l.Key))
                .ToDictionary(l => l.Key, l => (IReadOnlyList<HistoryFile>)[.. l.Value.OrderBy(f => f.Level).ThenBy(f => f.Sequence)], StringComparer.Ordinal),
        };
    }

    /// <summary>Uploads a generation's record from the backup directory.</summary>
    /// <exception cref="OffsiteUnavailableException">The upload failed or did not verify.</exception>
    public Task UploadGenerationAsync(ReplicationStore local, GenerationManifest generation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(generation);
        var path = Path.Combine(local.DirectoryOf(generation.Id), ReplicationStore.GenerationFileName);
        return Store.UploadFileAsync(GenerationBlob(generation.Id), path, null, Metadata(generation), cancellationToken);
    }

    /// <summary>Uploads a whole segment (one with a manifest) from the backup directory; its SHA-256 is checked before and after.</summary>
    /// <exception cref="OffsiteUnavailableException">The upload failed, or the file or the stored blob does not match the manifest.</exception>
    public Task UploadSegmentAsync(HistoryFile segment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segment);
        if (segment.InContainer)
        {
            throw new ArgumentException($"{segment.Path} is an object in a container; only files on the volume are uploaded.", nameof(segment));
        }

        var manifest = segment.Manifest ?? throw new ArgumentException($"Segment {segment.Path} has no manifest; only whole segments are copied.", nameof(segment));
        return Store.UploadFileAsync(FileBlob(manifest), segment.Path, manifest.Checksum, Metadata(manifest), cancellationToken);
    }

    /// <summary>
    /// Downloads listed segments into <paramref name="directory"/>, a few at a time, and returns them as local
    /// segments in the same order. A blob that has gone is returned with a path that does not exist, so the
    /// replay stops there and names it; what was downloaded is checked by the replay against its manifest.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">A download failed.</exception>
    public async Task<IReadOnlyList<HistoryFile>> DownloadAsync(IReadOnlyList<HistoryFile> segments, string directory, IProgress<Backups.OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var local = new HistoryFile[segments.Count];
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, segments.Count), new ParallelOptions { MaxDegreeOfParallelism = OffsiteStore.Concurrency * 2, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var segment = segments[i];
            var path = Path.Combine(directory, Path.GetFileName(segment.ObjectName));
            await Store.DownloadSmallAsync(segment.ObjectName, path, ct).ConfigureAwait(false);
            local[i] = segment.DownloadedTo(path);
            progress?.Report(new Backups.OperationProgress("download segments", Interlocked.Increment(ref done), segments.Count));
        }).ConfigureAwait(false);
        return local;
    }

    /// <summary>Deletes segments (by their blob names), in order.</summary>
    /// <exception cref="OffsiteUnavailableException">A delete failed.</exception>
    public async Task DeleteAsync(IEnumerable<string> blobNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blobNames);
        foreach (var name in blobNames)
        {
            await Store.DeleteBlobAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    private static Dictionary<string, string> Metadata<T>(T record) => new()
    {
        [ManifestMetadataKey] = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(record, PersistenceJson.Options)),
    };

    /// <summary>A segment's blob as a history file: with its record when the record is this segment's, else without one.</summary>
    private static HistoryFile SegmentIn(OffsiteStore.ListedBlob blob, string generation, long sequence)
    {
        var manifest = Record<SegmentManifest>(blob);
        var valid = manifest is not null && manifest.Sequence == sequence && manifest.Generation == generation;
        return HistoryFile.InContainerAs(sequence, blob.Name, valid ? manifest : null);
    }

    /// <summary>A level file's blob as a history file: with its record when the record is this file's, else without one.</summary>
    private static HistoryFile LevelFileIn(OffsiteStore.ListedBlob blob, string generation, string file, int level, long first, long last)
    {
        var manifest = Record<SegmentManifest>(blob);
        var valid = manifest is not null && manifest.Generation == generation && manifest.LevelOrZero == level && manifest.Sequence == first && manifest.Last == last && manifest.Filename == file;
        return HistoryFile.InContainerAs(first, blob.Name, valid ? manifest : null) with { Level = level, Last = last };
    }

    /// <summary>A generation's entry in <paramref name="byGeneration"/>, added empty when it has none yet.</summary>
    private static T Of<T>(Dictionary<string, T> byGeneration, string generation)
        where T : new()
    {
        if (!byGeneration.TryGetValue(generation, out var entry))
        {
            byGeneration[generation] = entry = new T();
        }

        return entry;
    }

    private static T? Record<T>(OffsiteStore.ListedBlob blob)
        where T : class
    {
        if (!blob.Metadata.TryGetValue(ManifestMetadataKey, out var encoded))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(Encoding.UTF8.GetString(Convert.FromBase64String(encoded)), PersistenceJson.Options);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

}
