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

    private readonly Lazy<AmazonS3Client> _s3 = new(() => S3ObjectStore.CreateClient(options.Value.Offsite.S3, s3Configs.Get(ClientName)), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether off-volume copies are configured.</summary>
    public bool Enabled => options.Value.Offsite.Enabled;

    /// <summary>The targets' name, when configured: the container, the bucket, or both.</summary>
    public string? Container => options.Value.Offsite.TargetName;

    /// <summary>
    /// The off-volume store for the backups of the database at <paramref name="location"/>, or <see langword="null"/>
    /// when off: the Azure container when it is configured, else the S3 bucket.
    /// </summary>
    public OffsiteStore? For(DatabaseLocation location) => Targets(location) is [var first, ..] ? first : null;

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
