using Azure.Storage.Blobs;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Offsite;

/// <summary>Gives the off-volume store for a database, when off-volume copies are configured.</summary>
public sealed class OffsiteConnector(IOptions<PersistenceOptions> options, IAzureClientFactory<BlobServiceClient> clients)
{
    /// <summary>The name the blob service client is registered under.</summary>
    public const string ClientName = "Default";

    /// <summary>Whether off-volume copies are configured.</summary>
    public bool Enabled => options.Value.Offsite.Enabled;

    /// <summary>The container's name, when configured.</summary>
    public string? Container => options.Value.Offsite.Container;

    /// <summary>The off-volume store for the backups of the database at <paramref name="location"/>, or <see langword="null"/> when off.</summary>
    public OffsiteStore? For(DatabaseLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var offsite = options.Value.Offsite;
        return offsite.Enabled
            ? new OffsiteStore(clients.CreateClient(ClientName).GetBlobContainerClient(offsite.Container), location.DatabasePath)
            : null;
    }
}
