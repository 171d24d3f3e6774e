namespace Emergence.Persistence.Configuration;

/// <summary>
/// Where off-volume copies of the backups go: an Azure Blob Storage container, reached with a
/// connection string or with a service URI and <c>DefaultAzureCredential</c>, and/or an S3-compatible
/// bucket (<see cref="S3"/>). Off when none is set; with both, every copy goes to each.
/// </summary>
public sealed class OffsiteOptions
{
    /// <summary>Off-volume backups kept by the container's own rotation when not set: a day of hourly backups.</summary>
    public const int DefaultKeepBackups = 24;

    /// <summary>A storage connection string (<c>UseDevelopmentStorage=true</c> for Azurite). A secret: never logged or reported.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob service endpoint, used with <c>DefaultAzureCredential</c> when there is no connection string.</summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The container that holds the copies; created when missing.</summary>
    public string? Container { get; set; }

    /// <summary>How many backups rotation keeps in the container, independently of the volume's count.</summary>
    public int KeepBackups { get; set; } = DefaultKeepBackups;

    /// <summary>The S3-compatible target.</summary>
    public S3TargetOptions S3 { get; } = new();

    /// <summary>Whether the Azure Blob Storage target is configured.</summary>
    public bool AzureEnabled => ConnectionString is not null || ServiceUri is not null;

    /// <summary>Whether off-volume copies are configured (to Azure, to S3, or to both).</summary>
    public bool Enabled => AzureEnabled || S3.Enabled;

    /// <summary>The name health and messages give the targets: the container, the bucket, or both joined by <c>+</c>.</summary>
    public string? TargetName => (AzureEnabled ? Container : null, S3.Enabled ? S3.Bucket : null) switch
    {
        ({ } container, { } bucket) => $"{container}+{bucket}",
        (var container, var bucket) => container ?? bucket,
    };
}
