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

    /// <summary>The S3 bucket setting: turns the S3-compatible target on.</summary>
    public const string S3BucketKey = "Persistence:Offsite:S3:Bucket";

    /// <summary>The S3 endpoint setting (blank: AWS).</summary>
    public const string S3EndpointKey = "Persistence:Offsite:S3:Endpoint";

    /// <summary>The S3 region setting (default <c>auto</c>).</summary>
    public const string S3RegionKey = "Persistence:Offsite:S3:Region";

    /// <summary>The S3 access key id setting.</summary>
    public const string S3AccessKeyIdKey = "Persistence:Offsite:S3:AccessKeyId";

    /// <summary>The S3 secret access key setting (a secret).</summary>
    public const string S3SecretAccessKeyKey = "Persistence:Offsite:S3:SecretAccessKey";

    /// <summary>The S3 path-style addressing setting (default false).</summary>
    public const string S3ForcePathStyleKey = "Persistence:Offsite:S3:ForcePathStyle";

    /// <summary>The S3 key prefix setting (optional).</summary>
    public const string S3PrefixKey = "Persistence:Offsite:S3:Prefix";

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
        BindS3(configuration, offsite.S3);
    }

    private static void BindS3(IConfiguration configuration, S3TargetOptions s3)
    {
        s3.Bucket = PersistenceSettings.ReadOptional(configuration, S3BucketKey) ?? s3.Bucket;
        if (PersistenceSettings.ReadOptional(configuration, S3EndpointKey) is { } endpoint)
        {
            s3.Endpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http" && parsed.AbsolutePath == "/" && parsed.Query.Length == 0
                ? parsed
                : throw new InvalidSettingException(Env(S3EndpointKey), endpoint, "expected the S3 endpoint's absolute URI without a path, e.g. https://storage.railway.app (blank for AWS).");
        }

        s3.Region = PersistenceSettings.ReadOptional(configuration, S3RegionKey) ?? s3.Region;
        s3.AccessKeyId = PersistenceSettings.ReadOptional(configuration, S3AccessKeyIdKey) ?? s3.AccessKeyId;
        s3.SecretAccessKey = PersistenceSettings.ReadOptional(configuration, S3SecretAccessKeyKey) ?? s3.SecretAccessKey;
        if (PersistenceSettings.ReadOptional(configuration, S3ForcePathStyleKey) is { } pathStyle)
        {
            s3.ForcePathStyle = bool.TryParse(pathStyle, out var parsed) ? parsed : throw new InvalidSettingException(Env(S3ForcePathStyleKey), pathStyle, "expected true or false.");
        }

        s3.Prefix = PersistenceSettings.ReadOptional(configuration, S3PrefixKey) ?? s3.Prefix;
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

        if (offsite.AzureEnabled && offsite.Container is null)
        {
            throw new InvalidSettingException(Env(ContainerKey), "", "expected a container name when off-volume backups are configured.");
        }

        if (!offsite.AzureEnabled && offsite.Container is not null)
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

        ValidateS3(offsite.S3);
        if (!BackupSchedule.TryParse(options.DrillSchedule, out _, out var error))
        {
            throw new InvalidSettingException(DrillScheduleKey, options.DrillSchedule, error!);
        }
    }

    /// <summary>Checks the S3 target's settings together: half-given credentials, a bucket or prefix S3 would refuse, settings without a bucket.</summary>
    private static void ValidateS3(S3TargetOptions s3)
    {
        if (!s3.Enabled)
        {
            var stray = new[] { (S3EndpointKey, s3.Endpoint?.ToString()), (S3AccessKeyIdKey, s3.AccessKeyId is null ? null : Hidden), (S3SecretAccessKeyKey, s3.SecretAccessKey is null ? null : Hidden), (S3PrefixKey, s3.Prefix.Length == 0 ? null : s3.Prefix) }
                .FirstOrDefault(setting => setting.Item2 is not null);
            if (stray.Item2 is { } value)
            {
                throw new InvalidSettingException(Env(stray.Item1), value, $"expected {Env(S3BucketKey)} to be set too (the S3 target is off without a bucket).");
            }

            return;
        }

        if (!IsBucketName(s3.Bucket!))
        {
            throw new InvalidSettingException(Env(S3BucketKey), s3.Bucket!, "expected 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.");
        }

        if ((s3.AccessKeyId is null) != (s3.SecretAccessKey is null))
        {
            var (given, missing) = s3.AccessKeyId is null ? (S3SecretAccessKeyKey, S3AccessKeyIdKey) : (S3AccessKeyIdKey, S3SecretAccessKeyKey);
            throw new InvalidSettingException(Env(given), given == S3SecretAccessKeyKey ? Hidden : s3.AccessKeyId!, $"expected {Env(missing)} to be set too (both, or neither for the SDK's own credentials).");
        }

        if (s3.Region.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new InvalidSettingException(Env(S3RegionKey), s3.Region, "expected a region name such as auto or us-east-1.");
        }

        if (s3.Prefix.Length > 0 && (s3.Prefix.StartsWith('/') || !s3.Prefix.EndsWith('/') || s3.Prefix.Length > 200 || s3.Prefix.Any(char.IsControl)))
        {
            throw new InvalidSettingException(Env(S3PrefixKey), s3.Prefix, "expected a key prefix ending in '/', not starting with one, e.g. app1/ (at most 200 characters).");
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid S3 bucket name.</summary>
    public static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && !name.Contains("..", StringComparison.Ordinal);

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
