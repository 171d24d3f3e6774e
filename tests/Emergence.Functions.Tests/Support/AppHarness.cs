using Emergence.Functions.Startup;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Emergence.Functions.Tests.Support;

/// <summary>
/// The function app's services as Program.cs registers them, against a per-test temp directory,
/// with a fake clock, captured logs and a controllable environment. Functions are constructed from
/// it and called directly.
/// </summary>
public sealed class AppHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public AppHarness(Dictionary<string, string?>? settings = null, string? mountInfo = null)
    {
        Root = Directory.CreateTempSubdirectory("emergence-app-").FullName;
        Probe = new FakeSystemProbe { MountInfo = mountInfo };
        var values = new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = Path.Combine(Root, "data", "database.sqlite"),
            ["Persistence:FallbackDirectory"] = Path.Combine(Root, "fallback"),
            ["Persistence:LockTimeoutSeconds"] = "2",
            // The image sets both; the timers' schedules name them.
            ["BACKUP_SCHEDULE"] = "0 0 * * * *",
            ["DRILL_SCHEDULE"] = "0 30 3 * * *",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<ISystemProbe>(Probe);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
        services.AddEmergencePersistence(configuration);
        services.AddSingleton<IConfiguration>(configuration);
        services.AddEmergenceFunctionApp(configuration);
        services.AddEmergenceTelemetry(configuration);
        _services = services.BuildServiceProvider();
    }

    public string Root { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 14, 10, 30, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.Zero };

    public FakeSystemProbe Probe { get; }

    public FakeLogCollector Logs { get; } = new();

    public string DatabasePath => Path.Combine(Root, "data", "database.sqlite");

    public string BackupDirectory => Path.Combine(Root, "data", "backups");

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public T Create<T>() => ActivatorUtilities.CreateInstance<T>(_services);

    /// <summary>Runs the startup sequence as the hosted service does and records it for the functions.</summary>
    public async Task<StartupResult> StartAsync()
    {
        var result = await Get<StartupSequence>().RunAsync(TestContext.Current.CancellationToken);
        Get<StartupState>().Complete(result);
        return result;
    }

    public void Dispose()
    {
        Get<StartupState>().Result?.Lock?.Dispose();
        _services.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}
