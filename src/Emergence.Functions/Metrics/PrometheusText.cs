using System.Globalization;
using System.Text;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Metrics;

/// <summary>
/// Writes metrics in Prometheus' text exposition format (version 0.0.4). Names follow OpenTelemetry's mapping:
/// dots become underscores, the unit becomes a suffix (<c>s</c> → <c>_seconds</c>, <c>By</c> → <c>_bytes</c>;
/// annotations such as <c>{backup}</c> add none) and monotonic sums end in <c>_total</c>.
/// </summary>
public static class PrometheusText
{
    /// <summary>The content type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The Prometheus name of an instrument named <paramref name="name"/> with <paramref name="unit"/>.</summary>
    public static string Name(string name, string? unit, bool counter)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder(name.Length + 16);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        var suffix = unit switch
        {
            "s" => "_seconds",
            "By" => "_bytes",
            _ => "",
        };
        var result = builder.ToString();
        if (suffix.Length > 0 && !result.EndsWith(suffix, StringComparison.Ordinal))
        {
            result += suffix;
        }

        return counter && !result.EndsWith("_total", StringComparison.Ordinal) ? result + "_total" : result;
    }

    /// <summary>Writes every metric that has a data point to <paramref name="writer"/>.</summary>
    public static void Write(IEnumerable<Metric> metrics, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var metric in metrics)
        {
            var points = new List<MetricPoint>();
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                points.Add(point);
            }

            if (points.Count == 0)
            {
                continue;
            }

            var type = metric.MetricType;
            var counter = type is MetricType.LongSum or MetricType.DoubleSum;
            var histogram = type == MetricType.Histogram;
            var name = Name(metric.Name, metric.Unit, counter);
            writer.Write($"# HELP {name} {EscapeHelp(metric.Description)}\n");
            writer.Write($"# TYPE {name} {(counter ? "counter" : histogram ? "histogram" : "gauge")}\n");
            foreach (var point in points)
            {
                var labels = Labels(point);
                if (histogram)
                {
                    WriteHistogram(writer, name, labels, point);
                    continue;
                }

                var value = type switch
                {
                    MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                    MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
                    MetricType.LongGauge => point.GetGaugeLastValueLong(),
                    _ => point.GetGaugeLastValueDouble(),
                };
                writer.Write($"{name}{Braced(labels)} {Number(value)}\n");
            }
        }
    }

    private static void WriteHistogram(TextWriter writer, string name, List<string> labels, MetricPoint point)
    {
        long cumulative = 0;
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            var bound = double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : Number(bucket.ExplicitBound);
            writer.Write($"{name}_bucket{Braced([.. labels, $"le=\"{bound}\""])} {cumulative.ToString(CultureInfo.InvariantCulture)}\n");
        }

        writer.Write($"{name}_sum{Braced(labels)} {Number(point.GetHistogramSum())}\n");
        writer.Write($"{name}_count{Braced(labels)} {point.GetHistogramCount().ToString(CultureInfo.InvariantCulture)}\n");
    }

    private static List<string> Labels(MetricPoint point)
    {
        var labels = new List<string>();
        foreach (var tag in point.Tags)
        {
            labels.Add($"{Name(tag.Key, null, counter: false)}=\"{EscapeLabel(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "")}\"");
        }

        return labels;
    }

    private static string Braced(List<string> labels) => labels.Count == 0 ? "" : $"{{{string.Join(',', labels)}}}";

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string EscapeHelp(string? text) => (text ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabel(string text) => EscapeHelp(text).Replace("\"", "\\\"", StringComparison.Ordinal);
}
