using System.Globalization;

namespace Emergence.Bench;

/// <summary>Median and spread of repeated timings, in seconds.</summary>
public sealed record Stats(IReadOnlyList<double> Samples)
{
    public double Median => Percentile(50);

    public double Min => Samples.Min();

    public double Max => Samples.Max();

    public double Percentile(double p)
    {
        var sorted = Samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Median:0.000} s ({Min:0.000}–{Max:0.000})");
}
