using Emergence.Functions;
using Emergence.Functions.Backups;
using Emergence.Functions.Health;
using Emergence.Functions.Monitors;
using Emergence.Functions.Replication;
using Emergence.Functions.Startup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the function app's own services: startup, the volume monitor and the health cache.</summary>
public static class FunctionAppServiceCollectionExtensions
{
    /// <summary>Adds the startup and volume-monitor hosted services, their shared state and the health cache.</summary>
    public static IServiceCollection AddEmergenceFunctionApp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FunctionAppOptions>()
            .Configure(options => FunctionAppOptions.Bind(configuration, options))
            .ValidateOnStart();
        services.TryAddSingleton<StartupState>();
        services.TryAddSingleton(new TimerSettings(configuration));
        services.TryAddSingleton<HealthCache>();
        services.TryAddSingleton<AppBackup>();
        services.AddHostedService<StartupService>();
        services.AddHostedService<VolumeMonitor>();
        services.AddHostedService<IntegrityMonitor>();
        services.AddHostedService<ReplicationService>();
        services.TryAddSingleton<BackupUploadService>();
        services.AddHostedService(provider => provider.GetRequiredService<BackupUploadService>());
        return services;
    }
}
