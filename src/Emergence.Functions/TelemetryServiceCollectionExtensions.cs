using Azure.Monitor.OpenTelemetry.Exporter;
using Emergence.Functions.Metrics;
using Emergence.Persistence.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the export of the library's metrics from the function app.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>The service name reported when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string DefaultServiceName = "emergence-functions";

    /// <summary>
    /// Adds the meter provider for <see cref="PersistenceMetrics.MeterName"/>: always the reader behind
    /// <c>GET /api/metrics</c>; OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (protocol, headers and
    /// interval from the standard <c>OTEL_*</c> variables); Azure Monitor when
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set.
    /// </summary>
    public static IServiceCollection AddEmergenceTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton<MetricsScrape>();
        var serviceName = Present(configuration["OTEL_SERVICE_NAME"]) ?? DefaultServiceName;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(PersistenceMetrics.MeterName);
                metrics.AddReader(provider => provider.GetRequiredService<MetricsScrape>().Reader);
                if (Present(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) is not null)
                {
                    metrics.AddOtlpExporter();
                }

                if (Present(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]) is { } connectionString)
                {
                    metrics.AddAzureMonitorMetricExporter(options => options.ConnectionString = connectionString);
                }
            });
        return services;
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
