namespace Emergence.Functions.HostTests.Support;

/// <summary>The outcome of a deploy healthcheck: passed or not, every poll's status (0: no answer), how long it took, the last body.</summary>
public sealed record Healthcheck(bool Passed, IReadOnlyList<int> Polls, TimeSpan Elapsed, string? LastBody)
{
    public override string ToString() =>
        $"{(Passed ? "passed" : "failed")} after {Elapsed.TotalSeconds:0.0} s, polls {string.Join(',', Polls)}; last body: {LastBody}";
}
