using Amazon.S3;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the persistence services.</summary>
public static class PersistenceServiceCollectionExtensions
{
    /// <summary>How long one request to the off-volume store may go without a byte before it is tried again (four tries at most).</summary>
    public static readonly TimeSpan OffsiteRequestTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Adds the persistence services, with <see cref="PersistenceOptions"/> bound from
    /// <paramref name="configuration"/> and validated when the host starts. <paramref name="configure"/>
    /// runs after binding (the CLI uses it for <c>--database</c> and <c>--backup-dir</c>).
    /// </summary>
    public static IServiceCollection AddEmergencePersistence(this IServiceCollection services, IConfiguration configuration, Action<PersistenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<PersistenceOptions>()
            .Configure(options =>
            {
                PersistenceSettings.Bind(configuration, options);
                if (configure is not null)
                {
                    configure(options);
                    PersistenceSettings.Normalize(options);
                }
            })
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<PersistenceMetrics>();
        services.TryAddSingleton<ISystemProbe, SystemProbe>();
        services.TryAddSingleton(_ => new SqliteConnectionFactory());
        services.TryAddSingleton<VolumeInspector>();
        services.TryAddSingleton<DatabaseLocator>();
        services.TryAddSingleton<DatabaseProbe>();
        services.TryAddSingleton<BackupActivity>();
        services.TryAddSingleton<IntegrityRecord>();
        services.TryAddSingleton<LiveIntegrityCheck>();
        services.TryAddSingleton<IHeldBackups, WindowBases>();
        services.TryAddSingleton<RestoreWindow>();
        services.TryAddSingleton<BackupService>();
        services.TryAddSingleton<BackupVerifier>();
        services.TryAddSingleton<RestoreService>();
        services.TryAddSingleton<OperatorRestore>();
        services.TryAddSingleton<HistoryAudit>();
        services.TryAddSingleton<DatabaseRecovery>();
        services.TryAddSingleton<IReadOnlyList<Migration>>(Migration.Embedded);
        services.TryAddSingleton<MigrationRunner>();
        services.TryAddSingleton<BackedUpMigration>();
        services.TryAddSingleton<HealthReporter>();
        services.TryAddSingleton<StartupSequence>();
        services.TryAddSingleton<VolumeWatch>();
        services.TryAddSingleton<ReplicationActivity>();
        services.TryAddSingleton<Replicator>();
        services.TryAddSingleton<HistoryUploader>();
        AddOffsite(services);
        return services;
    }

    private static void AddOffsite(IServiceCollection services)
    {
        // The Azure SDK logs every request (information) and every expected 404 (warning) under "Azure.*"
        // categories; the replicator logs outcomes itself, so only the SDK's errors are let through.
        services.Configure<LoggerFilterOptions>(filters => filters.AddFilter("Azure.", LogLevel.Error));

        // The client is built on first use, only when off-volume copies are configured. Retries: 3 after the
        // first try, 0.5 s doubling to at most 8 s, so a dead endpoint fails a call in about 4 s, not
        // the SDK's default of over 20 s; the next run retries the whole upload anyway.
        services.AddAzureClients(clients => clients.AddClient<BlobServiceClient, BlobClientOptions>((clientOptions, provider) =>
        {
            var offsite = provider.GetRequiredService<IOptions<PersistenceOptions>>().Value.Offsite;
            return offsite.ConnectionString is { } connectionString
                ? new BlobServiceClient(connectionString, clientOptions)
                : new BlobServiceClient(offsite.ServiceUri ?? throw new InvalidOperationException("Off-volume copies are not configured."), new DefaultAzureCredential(), clientOptions);
        }).WithName(OffsiteConnector.ClientName).ConfigureOptions(clientOptions =>
        {
            clientOptions.Retry.Mode = RetryMode.Exponential;
            clientOptions.Retry.MaxRetries = 3;
            clientOptions.Retry.Delay = TimeSpan.FromSeconds(0.5);
            clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(8);

            // A store that accepts a connection and then stops answering: each try gives up after this long without a
            // byte (the SDK's default, 100 s, made a restore wait about seven minutes over its four tries).
            clientOptions.Retry.NetworkTimeout = OffsiteRequestTimeout;
        }));
        services.AddOptions<BlobClientOptions>(OffsiteConnector.ClientName).Configure<PersistenceMetrics, IOptions<PersistenceOptions>>((clientOptions, metrics, options) =>
            clientOptions.AddPolicy(new OffsiteRequestPolicy(metrics, PersistenceMetrics.AzureTarget(options.Value.Offsite.Container ?? "")), HttpPipelinePosition.PerRetry));
        // The S3 client is built on first use too, only when a bucket is configured; tests shorten its retries by configuring these options.
        services.AddOptions<AmazonS3Config>(OffsiteConnector.ClientName).Configure(S3Clients.Defaults);
        services.AddOptions<AmazonS3Config>(OffsiteConnector.ClientName).Configure<PersistenceMetrics, IOptions<PersistenceOptions>>((config, metrics, options) =>
            config.HttpClientFactory = new S3RequestCounter(metrics, PersistenceMetrics.S3Target(options.Value.Offsite.S3.Name ?? "")));
        services.TryAddSingleton<OffsiteConnector>();
        services.TryAddSingleton<OffsiteActivity>();
        services.TryAddSingleton<BackupDownloader>();
        services.TryAddSingleton<BackupUploader>();
        services.TryAddSingleton<RestoreDrill>();
    }
}
