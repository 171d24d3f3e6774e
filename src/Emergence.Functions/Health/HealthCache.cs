using Emergence.Functions.Startup;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Health;

/// <summary>
/// Serves a health report at most <see cref="FunctionAppOptions.HealthCacheDuration"/> old, so a flood of
/// calls costs one disk inspection per interval. One check runs at a time and every caller waits for it, at
/// most <see cref="CheckTimeout"/>: a check blocked on the volume (a hung disk, a special file) answers
/// unhealthy in time instead of hanging every health call behind it.
/// </summary>
public sealed class HealthCache(HealthReporter reporter, DatabaseLocator locator, StartupState state, IOptions<FunctionAppOptions> options, IOptions<Persistence.Configuration.PersistenceOptions> settings, TimeProvider time)
{
    /// <summary>How long a caller waits for a check before it is answered that the check did not finish.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private HealthReport? _report;
    private long _madeAt;
    private Task<HealthReport>? _running;

    /// <summary>Returns a report no older than the cache duration, or one saying the check did not finish in time.</summary>
    public async Task<HealthReport> GetAsync(CancellationToken cancellationToken = default)
    {
        if (Fresh() is { } cached)
        {
            return cached;
        }

        Task<HealthReport> running;
        lock (_gate)
        {
            if (Fresh() is { } refreshed)
            {
                return refreshed;
            }

            // One check at a time, on a thread of its own: it may block on the disk for as long as the disk likes.
            running = _running ??= Task.Factory.StartNew(Refresh, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        try
        {
            return await running.WaitAsync(CheckTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var sentence = $"The health check did not finish within {CheckTimeout.TotalSeconds:0} s: reading the volume is blocked (a hung disk, or a special file where the database or a backup should be). It goes on in the background.";
            return HealthReporter.Failed(state.Result?.Location ?? Unchecked(), time.GetUtcNow(), sentence);
        }
    }

    /// <summary>Drops the cached report, so the next call measures again (after a backup, say).</summary>
    public void Invalidate() => Volatile.Write(ref _report, null);

    private HealthReport Refresh()
    {
        try
        {
            var result = state.Result;
            var report = result is null
                ? reporter.Check(locator.Configured(), state.WaitingSentence())
                : reporter.Check(result.Location, result.FailureSentence);
            Volatile.Write(ref _madeAt, time.GetTimestamp());
            Volatile.Write(ref _report, report);
            return report;
        }
        finally
        {
            lock (_gate)
            {
                _running = null;
            }
        }
    }

    /// <summary>The configured location, described without touching the disk.</summary>
    private DatabaseLocation Unchecked()
    {
        var configured = settings.Value;
        var directory = Path.GetDirectoryName(configured.DatabasePath)!;
        return new DatabaseLocation
        {
            DatabasePath = configured.DatabasePath,
            ConfiguredDatabasePath = configured.DatabasePath,
            BackupDirectory = configured.BackupDirectoryFor(configured.DatabasePath),
            Volume = new Persistence.Volumes.VolumeStatus
            {
                Mounted = false,
                Path = directory,
                Writable = false,
                SizeAvailable = 0,
                SizeTotal = 0,
                DatabaseExists = false,
                LastCheck = time.GetUtcNow(),
                Filesystem = null,
                MountPoint = null,
                ExpectedMountPath = null,
                ReadOnly = false,
                Error = "the check did not finish",
            },
        };
    }

    private HealthReport? Fresh()
    {
        var report = Volatile.Read(ref _report);
        return report is not null && time.GetElapsedTime(Volatile.Read(ref _madeAt)) < options.Value.HealthCacheDuration ? report : null;
    }
}
