using System.Text;
using Emergence.Functions.Health;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Health;
using Emergence.Persistence.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Metrics;

/// <summary>
/// The reader behind <c>GET /api/metrics</c>: collects on demand (nothing runs between scrapes) and renders
/// Prometheus text. It also points the library's gauges at the health cache, so a scrape or an OTLP export
/// costs what a cached health report costs and nothing more.
/// </summary>
public sealed class MetricsScrape : IDisposable
{
    private readonly HealthCache _health;
    private readonly TextExporter _exporter = new();
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Creates the reader and makes the health cache the gauges' source.</summary>
    public MetricsScrape(PersistenceMetrics metrics, HealthCache health, IOptions<PersistenceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        var offsite = options.Value.Offsite;
        _health = health;
        Reader = new BaseExportingMetricReader(_exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };

        // Gauges are observed on the collecting thread; the cache answers at once when fresh, which a scrape makes sure of.
        metrics.ObserveWith(() => HealthReading.From(health.GetAsync().GetAwaiter().GetResult(), offsite));
    }

    /// <summary>The reader to add to the meter provider.</summary>
    public MetricReader Reader { get; }

    /// <summary>Refreshes the health cache when stale, collects every instrument and returns the text.</summary>
    public async Task<string> CollectAsync(CancellationToken cancellationToken)
    {
        await _health.GetAsync(cancellationToken).ConfigureAwait(false);
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Reader.Collect() ? _exporter.Text : throw new InvalidOperationException("The metrics could not be collected.");
        }
        finally
        {
            _one.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Reader.Dispose();
        _exporter.Dispose();
        _one.Dispose();
    }

    /// <summary>Keeps the text of the last collection.</summary>
    private sealed class TextExporter : BaseExporter<Metric>
    {
        public string Text { get; private set; } = "";

        public override ExportResult Export(in Batch<Metric> batch)
        {
            var metrics = new List<Metric>();
            foreach (var metric in batch)
            {
                metrics.Add(metric);
            }

            using var writer = new StringWriter(new StringBuilder(), System.Globalization.CultureInfo.InvariantCulture);
            PrometheusText.Write(metrics, writer);
            Text = writer.ToString();
            return ExportResult.Success;
        }
    }
}
