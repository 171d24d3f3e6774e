using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Offsite;

/// <summary>The target's listing: its backups with their manifests (each manifest read once per object written).</summary>
public sealed partial class OffsiteStore
{
    /// <summary>Backups in the target, newest first, each with its manifest when it has a readable one.</summary>
    /// <exception cref="OffsiteUnavailableException">The target cannot be listed.</exception>
    public async Task<IReadOnlyList<OffsiteBackup>> ListAsync(CancellationToken cancellationToken = default) =>
        (await ScanAsync(cancellationToken).ConfigureAwait(false)).Backups;

    /// <summary>
    /// Lists the target once: its backups, newest first, with their manifests, and the manifest objects
    /// whose backup object is missing (left by an interrupted rotation). A missing container holds nothing.
    /// </summary>
    /// <exception cref="OffsiteUnavailableException">The target cannot be listed.</exception>
    public async Task<OffsiteInventory> ScanAsync(CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        var manifests = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
        foreach (var item in await Objects.ListAsync("", withMetadata: false, cancellationToken).ConfigureAwait(false))
        {
            if (_naming.IsBackupName(item.Key))
            {
                data[item.Key] = item;
            }
            else if (item.Key.EndsWith(BackupNaming.ManifestSuffix, StringComparison.Ordinal)
                && _naming.IsBackupName(item.Key[..^BackupNaming.ManifestSuffix.Length]))
            {
                manifests[item.Key[..^BackupNaming.ManifestSuffix.Length]] = item;
            }
        }

        var backups = await Task.WhenAll(data.Values.Select(item => DescribeAsync(item, manifests.GetValueOrDefault(item.Key), cancellationToken))).ConfigureAwait(false);
        var stray = manifests.Keys.Where(name => !data.ContainsKey(name)).Select(BackupNaming.ManifestNameFor).Order(StringComparer.Ordinal).ToList();
        return new OffsiteInventory([.. backups.OrderByDescending(b => (b.Stamp, b.Sequence))], stray);
    }

    /// <summary>
    /// Manifests already read, by target, name, size and time written: a manifest object is never rewritten in
    /// place, so a listing that shows the same one again needs no download (each upload run and retention pass
    /// would otherwise read every manifest in the target).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Target, string Key, long Size, DateTimeOffset? Written), BackupManifest> ReadManifests = new();

    private async Task<OffsiteBackup> DescribeAsync(StoredObject item, StoredObject? manifestObject, CancellationToken cancellationToken)
    {
        if (!_naming.TryParse(item.Key, out var stamp, out var sequence))
        {
            throw new ArgumentException($"{item.Key} is not a backup's name.", nameof(item));
        }

        BackupManifest? manifest = null;
        string? error = "it has no manifest (the upload never finished)";
        var cacheKey = manifestObject is null ? default : (Objects.Describe(), manifestObject.Key, manifestObject.Size, manifestObject.LastModified);
        if (manifestObject is not null && manifestObject.LastModified is not null && ReadManifests.TryGetValue(cacheKey, out var known))
        {
            (manifest, error) = (known, null);
        }
        else if (manifestObject is not null && await ReadTextAsync(BackupNaming.ManifestNameFor(item.Key), cancellationToken).ConfigureAwait(false) is { } json)
        {
            manifest = BackupCatalog.ParseManifest(json, item.Key, out error);
            if (manifest is not null && manifestObject.LastModified is not null)
            {
                if (ReadManifests.Count > 10_000)
                {
                    ReadManifests.Clear();
                }

                ReadManifests[cacheKey] = manifest;
            }
        }

        return new OffsiteBackup
        {
            Name = item.Key,
            Stamp = stamp,
            Sequence = sequence,
            Size = item.Size,
            UploadedAt = item.LastModified,
            Manifest = manifest,
            ManifestError = error,
        };
    }

    private async Task<string?> ReadTextAsync(string key, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        try
        {
            return await Objects.DownloadToAsync(key, buffer, null, cancellationToken).ConfigureAwait(false)
                ? System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length)
                : null;
        }
        catch (OffsiteUnavailableException ex)
        {
            throw new OffsiteUnavailableException($"cannot read the manifest of {key[..^BackupNaming.ManifestSuffix.Length]}: {ex.Message}", ex);
        }
    }
}
