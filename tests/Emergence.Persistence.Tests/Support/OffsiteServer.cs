using System.Security.Cryptography;
using Amazon.S3;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Offsite;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Persistence.Tests.Support;

/// <summary>The kinds of off-volume target the off-volume tests run against.</summary>
public enum TargetKind
{
    /// <summary>Azure Blob Storage, served by Azurite.</summary>
    Azure,

    /// <summary>An S3-compatible bucket, served by s3rver.</summary>
    S3,
}

/// <summary>
/// A real off-volume store on loopback for one test, of either kind: the settings that point the library at it,
/// direct access to its objects (to look, tamper and delete behind the library's back), and a kill switch.
/// </summary>
public sealed class OffsiteServer : IDisposable
{
    /// <summary>The container or bucket the tests use.</summary>
    public const string Name = "emergence-backups";

    private readonly Azurite? _azurite;
    private readonly S3rver? _s3rver;
    private readonly AmazonS3Client? _client;

    private OffsiteServer(TargetKind kind, Azurite? azurite, S3rver? s3rver)
    {
        Kind = kind;
        _azurite = azurite;
        _s3rver = s3rver;
        if (s3rver is not null)
        {
            var config = new AmazonS3Config();
            S3Clients.Defaults(config);
            _client = S3Clients.Create(S3Options(s3rver.Endpoint), config);
            Objects = new S3ObjectStore(_client, S3Options(s3rver.Endpoint));
        }
        else
        {
            Objects = new AzureObjectStore(new BlobServiceClient(azurite!.ConnectionString).GetBlobContainerClient(Name));
        }
    }

    /// <summary>Both kinds, for a theory.</summary>
    public static TheoryData<TargetKind> Kinds => [TargetKind.Azure, TargetKind.S3];

    /// <summary>Its kind.</summary>
    public TargetKind Kind { get; }

    /// <summary>The store, reached directly.</summary>
    public IObjectStore Objects { get; }

    /// <summary>Starts a server of <paramref name="kind"/> (skipping the test when it is not installed, failing under CI).</summary>
    public static OffsiteServer Start(TargetKind kind) => kind == TargetKind.Azure
        ? new OffsiteServer(kind, Azurite.Start(), null)
        : new OffsiteServer(kind, null, S3rver.Start(Name));

    /// <summary>The settings that make this server the off-volume target.</summary>
    public Dictionary<string, string?> Settings() => Kind == TargetKind.Azure
        ? new()
        {
            ["Persistence:Offsite:ConnectionString"] = _azurite!.ConnectionString,
            ["Persistence:Offsite:Container"] = Name,
        }
        : new()
        {
            ["Persistence:Offsite:S3:Bucket"] = Name,
            ["Persistence:Offsite:S3:Endpoint"] = _s3rver!.Endpoint.ToString(),
            ["Persistence:Offsite:S3:AccessKeyId"] = S3rver.AccessKeyId,
            ["Persistence:Offsite:S3:SecretAccessKey"] = S3rver.SecretAccessKey,
            ["Persistence:Offsite:S3:ForcePathStyle"] = "true",
        };

    /// <summary>Settings of the same kind pointing at a port nothing listens on.</summary>
    public Dictionary<string, string?> UnreachableSettings()
    {
        var settings = Settings();
        var port = Azurite.FreePort();
        if (Kind == TargetKind.Azure)
        {
            settings["Persistence:Offsite:ConnectionString"] = _azurite!.ConnectionString.Replace($":{_azurite.Port}/", $":{port}/", StringComparison.Ordinal);
        }
        else
        {
            settings["Persistence:Offsite:S3:Endpoint"] = $"http://127.0.0.1:{port}";
        }

        return settings;
    }

    /// <summary>Fewer, quicker retries than production's defaults, so a dead service fails a test in seconds.</summary>
    public static void FastRetries(IServiceCollection services)
    {
        services.Configure<BlobClientOptions>(OffsiteConnector.ClientName, options =>
        {
            options.Retry.MaxRetries = 1;
            options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        });
        services.Configure<AmazonS3Config>(OffsiteConnector.ClientName, config =>
        {
            config.MaxErrorRetry = 1;
            config.Timeout = TimeSpan.FromSeconds(20);
        });
    }

    /// <summary>An object's bytes.</summary>
    public async Task<byte[]> ReadAsync(string key, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        Assert.True(await Objects.DownloadToAsync(key, buffer, null, cancellationToken), $"{key} is not in the store");
        return buffer.ToArray();
    }

    /// <summary>An object's SHA-256.</summary>
    public async Task<string> Sha256Async(string key, CancellationToken cancellationToken) =>
        Convert.ToHexStringLower(SHA256.HashData(await ReadAsync(key, cancellationToken)));

    /// <summary>Replaces an object's content behind the library's back, keeping its metadata (so only the content lies).</summary>
    public async Task OverwriteAsync(string key, byte[] content, CancellationToken cancellationToken)
    {
        var stored = await Objects.GetAsync(key, cancellationToken);
        Assert.True(await Objects.PutAsync(key, content, stored?.Metadata ?? new Dictionary<string, string>(), createOnly: false, cancellationToken));
    }

    /// <summary>
    /// How many parts an object was written in, where the server says: Azurite's committed blocks (1 for a single
    /// request); <see langword="null"/> for s3rver, which gives a multipart object the MD5 of its whole content as its
    /// ETag, as no real S3 store does.
    /// </summary>
    public async Task<int?> PartsAsync(string key, CancellationToken cancellationToken)
    {
        if (Kind != TargetKind.Azure)
        {
            return null;
        }

        var blocks = await new BlobServiceClient(_azurite!.ConnectionString).GetBlobContainerClient(Name).GetBlockBlobClient(key)
            .GetBlockListAsync(Azure.Storage.Blobs.Models.BlockListTypes.Committed, cancellationToken: cancellationToken);
        return Math.Max(1, blocks.Value.CommittedBlocks.Count());
    }

    /// <summary>Whether an object exists.</summary>
    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => await Objects.GetAsync(key, cancellationToken) is not null;

    /// <summary>Every key under <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<string>> KeysAsync(string prefix, CancellationToken cancellationToken) =>
        [.. (await Objects.ListAsync(prefix, withMetadata: false, cancellationToken)).Select(o => o.Key)];

    /// <summary>Kills the server: requests in flight fail, later connections are refused.</summary>
    public void Kill()
    {
        _azurite?.Kill();
        _s3rver?.Kill();
    }

    /// <summary>Starts it again on the same port and data.</summary>
    public void Resume()
    {
        _azurite?.Resume();
        _s3rver?.Resume();
    }

    public void Dispose()
    {
        _client?.Dispose();
        _azurite?.Dispose();
        _s3rver?.Dispose();
    }

    private static S3TargetOptions S3Options(Uri endpoint)
    {
        var options = new S3TargetOptions { Bucket = Name, Endpoint = endpoint, AccessKeyId = S3rver.AccessKeyId, SecretAccessKey = S3rver.SecretAccessKey, ForcePathStyle = true };
        return options;
    }
}
