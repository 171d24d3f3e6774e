namespace Emergence.Bench;

/// <summary>A clock the benchmark moves by hand: an hour or a week of polls in minutes.</summary>
internal sealed class SteppedClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
