using Emergence.Functions.Startup;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Health;

/// <summary>
/// Serves a health report at most <see cref="FunctionAppOptions.HealthCacheDuration"/> old, so a flood of
/// calls costs one disk inspection per interval. One caller refreshes; the others wait for it.
/// </summary>
public sealed class HealthCache(HealthReporter reporter, DatabaseLocator locator, StartupState state, IOptions<FunctionAppOptions> options, TimeProvider time) : IDisposable
{
    /// <summary>The problem reported while startup has not finished.</summary>
    public const string StartingProblem = "Startup is still running: the database is not ready yet.";

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private HealthReport? _report;
    private long _madeAt;

    /// <summary>Returns a report no older than the cache duration.</summary>
    public async Task<HealthReport> GetAsync(CancellationToken cancellationToken = default)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } refreshed)
            {
                return refreshed;
            }

            var result = state.Result;
            var report = result is null
                ? reporter.Check(locator.Configured(), StartingProblem)
                : reporter.Check(result.Location, result.FailureSentence);
            Volatile.Write(ref _madeAt, time.GetTimestamp());
            Volatile.Write(ref _report, report);
            return report;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Drops the cached report, so the next call measures again (after a backup, say).</summary>
    public void Invalidate() => Volatile.Write(ref _report, null);

    /// <inheritdoc />
    public void Dispose() => _refresh.Dispose();

    private HealthReport? Fresh()
    {
        var report = Volatile.Read(ref _report);
        return report is not null && time.GetElapsedTime(Volatile.Read(ref _madeAt)) < options.Value.HealthCacheDuration ? report : null;
    }
}
