namespace Emergence.Persistence.Configuration;

/// <summary>
/// Where off-volume copies of the backups go: an Azure Blob Storage container, reached with a
/// connection string or with a service URI and <c>DefaultAzureCredential</c>. Off when neither is set.
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

    /// <summary>Whether off-volume copies are configured.</summary>
    public bool Enabled => ConnectionString is not null || ServiceUri is not null;
}
