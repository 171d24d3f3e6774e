using Amazon.S3;
using Azure.Storage.Blobs;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Offsite;

/// <summary>Gives the off-volume targets for a database: the Azure container, the S3 bucket, or both, as configured.</summary>
public sealed class OffsiteConnector(IOptions<PersistenceOptions> options, IAzureClientFactory<BlobServiceClient> clients, IOptionsMonitor<AmazonS3Config> s3Configs) : IDisposable
{
    /// <summary>The name the blob service client and the S3 client's configuration are registered under.</summary>
    public const string ClientName = "Default";

    private readonly Lazy<AmazonS3Client> _s3 = new(() => S3Clients.Create(options.Value.Offsite.S3, s3Configs.Get(ClientName)), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether off-volume copies are configured.</summary>
    public bool Enabled => options.Value.Offsite.Enabled;

    /// <summary>The targets' name, when configured: the container, the bucket, or both.</summary>
    public string? Container => options.Value.Offsite.TargetName;

    /// <summary>
    /// The off-volume store to read the backups and history of the database at <paramref name="location"/> from, or
    /// <see langword="null"/> when off: the one target, or with two both read as one (<see cref="MirroredObjectStore"/>:
    /// what is missing or damaged in one is taken from the other). <paramref name="target"/> picks one target by its
    /// kind (<c>azure</c>, <c>s3</c>) or its container's or bucket's name.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="target"/> names no configured target.</exception>
    public OffsiteStore? For(DatabaseLocation location, string? target = null)
    {
        var targets = Targets(location);
        if (target is not null)
        {
            return targets.FirstOrDefault(t => string.Equals(t.Kind, target, StringComparison.OrdinalIgnoreCase) || string.Equals(t.Container, target, StringComparison.Ordinal))
                ?? throw new ArgumentException($"no off-volume target is named {target}: the configured ones are {(targets.Count == 0 ? "none" : string.Join(", ", targets.Select(t => $"{t.Kind} ({t.Container})")))}.", nameof(target));
        }

        return targets switch
        {
            [] => null,
            [var one] => one,
            [var first, ..] => first.On(new MirroredObjectStore([.. targets.Select(t => t.Objects)])),
        };
    }

    /// <summary>Every configured target for the database at <paramref name="location"/>: Azure first, then S3.</summary>
    public IReadOnlyList<OffsiteStore> Targets(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var offsite = options.Value.Offsite;
        var targets = new List<OffsiteStore>();
        if (offsite.AzureEnabled)
        {
            targets.Add(new OffsiteStore(new AzureObjectStore(clients.CreateClient(ClientName).GetBlobContainerClient(offsite.Container)), location.DatabasePath));
        }

        if (offsite.S3.Enabled)
        {
            targets.Add(new OffsiteStore(new S3ObjectStore(_s3.Value, offsite.S3), location.DatabasePath));
        }

        return targets;
    }

    /// <summary>Disposes the S3 client, when one was made.</summary>
    public void Dispose()
    {
        if (_s3.IsValueCreated)
        {
            _s3.Value.Dispose();
        }
    }
}
