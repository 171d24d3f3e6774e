using System.Globalization;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace Emergence.Persistence.Configuration;

/// <summary>Reads and checks the <c>Persistence__Offsite__*</c> settings and <c>DRILL_SCHEDULE</c>.</summary>
public static class OffsiteSettings
{
    /// <summary>The storage connection string setting (a secret).</summary>
    public const string ConnectionStringKey = "Persistence:Offsite:ConnectionString";

    /// <summary>The blob service URI setting, used with <c>DefaultAzureCredential</c>.</summary>
    public const string ServiceUriKey = "Persistence:Offsite:ServiceUri";

    /// <summary>The container setting.</summary>
    public const string ContainerKey = "Persistence:Offsite:Container";

    /// <summary>The container's retention count setting.</summary>
    public const string KeepBackupsKey = "Persistence:Offsite:KeepBackups";

    /// <summary>The restore drill timer's schedule, a top-level app setting the Functions host also reads.</summary>
    public const string DrillScheduleKey = "DRILL_SCHEDULE";

    /// <summary>Daily at 03:30 UTC: the default drill schedule.</summary>
    public const string DefaultDrillSchedule = "0 30 3 * * *";

    private const string Hidden = "(value hidden)";

    /// <summary>Binds the off-volume settings present in <paramref name="configuration"/>.</summary>
    /// <exception cref="InvalidSettingException">A value cannot be parsed, or the settings contradict each other.</exception>
    public static void Bind(IConfiguration configuration, PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var offsite = options.Offsite;
        offsite.ConnectionString = PersistenceSettings.ReadOptional(configuration, ConnectionStringKey) ?? offsite.ConnectionString;
        if (PersistenceSettings.ReadOptional(configuration, ServiceUriKey) is { } uri)
        {
            offsite.ServiceUri = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http"
                ? parsed
                : throw new InvalidSettingException(Env(ServiceUriKey), uri, "expected the blob service's absolute URI, e.g. https://ACCOUNT.blob.core.windows.net.");
        }

        offsite.Container = PersistenceSettings.ReadOptional(configuration, ContainerKey) ?? offsite.Container;
        if (Read(configuration, KeepBackupsKey) is { } keep)
        {
            offsite.KeepBackups = int.TryParse(keep, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new InvalidSettingException(Env(KeepBackupsKey), keep, KeepAccepted);
        }

        options.DrillSchedule = Read(configuration, DrillScheduleKey) ?? options.DrillSchedule;
    }

    /// <summary>Checks the off-volume settings together; throws on the first bad one.</summary>
    /// <exception cref="InvalidSettingException">A value is out of range or the settings contradict each other.</exception>
    public static void Validate(PersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var offsite = options.Offsite;
        if (offsite.ConnectionString is not null && offsite.ServiceUri is not null)
        {
            throw new InvalidSettingException(Env(ServiceUriKey), offsite.ServiceUri.ToString(), $"expected either {Env(ConnectionStringKey)} or {Env(ServiceUriKey)}, not both.");
        }

        if (offsite.ConnectionString is { } connectionString)
        {
            try
            {
                _ = new BlobServiceClient(connectionString);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                // The value is a secret: the message says what is wrong without repeating it.
                throw new InvalidSettingException(Env(ConnectionStringKey), Hidden, "expected an Azure Storage connection string (AccountName=…;AccountKey=…, BlobEndpoint=…;SharedAccessSignature=…, or UseDevelopmentStorage=true).");
            }
        }

        if (offsite.Enabled && offsite.Container is null)
        {
            throw new InvalidSettingException(Env(ContainerKey), "", "expected a container name when off-volume backups are configured.");
        }

        if (!offsite.Enabled && offsite.Container is not null)
        {
            throw new InvalidSettingException(Env(ContainerKey), offsite.Container, $"expected {Env(ConnectionStringKey)} or {Env(ServiceUriKey)} to be set too (off-volume backups are off without one).");
        }

        if (offsite.Container is { } container && !IsContainerName(container))
        {
            throw new InvalidSettingException(Env(ContainerKey), container, "expected 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        if (offsite.KeepBackups is < PersistenceOptions.MinKeepBackups or > PersistenceOptions.MaxKeepBackups)
        {
            throw new InvalidSettingException(Env(KeepBackupsKey), offsite.KeepBackups.ToString(CultureInfo.InvariantCulture), KeepAccepted);
        }

        if (!BackupSchedule.TryParse(options.DrillSchedule, out _, out var error))
        {
            throw new InvalidSettingException(DrillScheduleKey, options.DrillSchedule, error!);
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid blob container name.</summary>
    public static bool IsContainerName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
        && name[0] != '-' && name[^1] != '-'
        && !name.Contains("--", StringComparison.Ordinal);

    private const string KeepAccepted = PersistenceSettings.KeepBackupsAccepted;

    private static string Env(string key) => PersistenceSettings.EnvName(key);

    private static string? Read(IConfiguration configuration, string key) => PersistenceSettings.Read(configuration, key);
}
