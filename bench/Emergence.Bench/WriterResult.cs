namespace Emergence.Bench;

/// <summary>A concurrent writer's commit latencies (ms), by what was running when each began.</summary>
public sealed class WriterResult
{
    private readonly Dictionary<WriterPhase, List<double>> _latencies = Enum.GetValues<WriterPhase>().ToDictionary(p => p, _ => new List<double>());

    public int Backups { get; set; }

    public int RawCopies { get; set; }

    public int Errors { get; set; }

    public void Record(WriterPhase phase, double milliseconds) => _latencies[phase].Add(milliseconds);

    /// <summary>The latencies of the commits that began in any of <paramref name="phases"/>.</summary>
    public Stats Latencies(params WriterPhase[] phases) => new(phases.SelectMany(p => _latencies[p]).ToList());

    /// <summary>Adds another trial's commits and counts to these.</summary>
    public void Add(WriterResult other)
    {
        foreach (var (phase, latencies) in other._latencies)
        {
            _latencies[phase].AddRange(latencies);
        }

        Backups += other.Backups;
        RawCopies += other.RawCopies;
        Errors += other.Errors;
    }
}
