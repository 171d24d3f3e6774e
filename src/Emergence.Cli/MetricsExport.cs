using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Emergence.Cli;

/// <summary>
/// OTLP export of the library's metrics for the long-running <c>replicate</c>, the same way the function app
/// does it: on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, configured by the standard <c>OTEL_*</c> variables.
/// </summary>
internal static class MetricsExport
{
    /// <summary>The service name reported when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string DefaultServiceName = "emergence-db";

    /// <summary>Starts the export for <paramref name="location"/>, or returns <see langword="null"/> when no endpoint is set.</summary>
    public static MeterProvider? Start(CliSession session, DatabaseLocation location)
    {
        var settings = session.Environment.Settings;
        if (string.IsNullOrWhiteSpace(settings.GetValueOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return null;
        }

        var otel = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Where(kv => kv.Key.StartsWith("OTEL_", StringComparison.Ordinal)))
            .Build();
        var serviceName = settings.GetValueOrDefault("OTEL_SERVICE_NAME") is { Length: > 0 } name && !string.IsNullOrWhiteSpace(name) ? name : DefaultServiceName;
        var reporter = session.Get<HealthReporter>();
        var offsite = session.Options.Offsite;
        session.Get<PersistenceMetrics>().ObserveWith(() => HealthReading.From(reporter.Check(location, null), offsite));
        return Sdk.CreateMeterProviderBuilder()
            .ConfigureServices(services => services.AddSingleton<IConfiguration>(otel))
            .ConfigureResource(resource => resource.AddService(serviceName))
            .AddMeter(PersistenceMetrics.MeterName)
            .AddOtlpExporter()
            .Build();
    }
}
