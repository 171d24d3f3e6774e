using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Emergence.Persistence.Configuration;

namespace Emergence.Persistence.Offsite;

/// <summary>The S3 client <see cref="S3ObjectStore"/> works through: its defaults, and one made for a target's settings.</summary>
public static class S3Clients
{
    /// <summary>
    /// Sets the client defaults on <paramref name="config"/>. Checksums are computed and validated only when an
    /// operation requires them (<c>WHEN_REQUIRED</c>): the SDK's default, a trailing CRC checksum on every upload, is
    /// refused by several S3-compatible stores; the content is checked anyway, by Content-MD5 on each request and by
    /// the SHA-256 recorded and read back. Three retries after the first try, each try bounded by <see cref="S3ObjectStore.RequestTimeout"/>.
    /// </summary>
    public static void Defaults(AmazonS3Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
        config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = 3;
        config.Timeout = S3ObjectStore.RequestTimeout;
    }

    /// <summary>A client for <paramref name="options"/>, from <paramref name="config"/> (see <see cref="Defaults"/>) with the endpoint, region and addressing set.</summary>
    public static AmazonS3Client Create(S3TargetOptions options, AmazonS3Config config)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(config);
        config.ForcePathStyle = options.ForcePathStyle;
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region == S3TargetOptions.DefaultRegion ? "us-east-1" : options.Region);
        }

        return options.AccessKeyId is { } id && options.SecretAccessKey is { } secret
            ? new AmazonS3Client(new BasicAWSCredentials(id, secret), config)
            : new AmazonS3Client(config);
    }
}
