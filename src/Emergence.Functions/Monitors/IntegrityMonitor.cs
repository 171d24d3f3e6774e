using Emergence.Functions.Health;
using Emergence.Functions.Startup;
using Emergence.Persistence.Database;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Monitors;

/// <summary>
/// Checks the live database with <c>quick_check</c> every <see cref="FunctionAppOptions.IntegrityCheckInterval"/>
/// once startup has succeeded, unless a check (a backup's of its page-exact copy counts) ran within the
/// interval. Health reports the result as <c>database.integrity</c>; a failure is unhealthy.
/// </summary>
public sealed class IntegrityMonitor(StartupState state, LiveIntegrityCheck check, HealthCache health, IOptions<FunctionAppOptions> options, TimeProvider time) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.IntegrityCheckInterval;
        var startup = await state.WhenCompleteAsync(stoppingToken).ConfigureAwait(false);
        if (!startup.Succeeded || interval <= TimeSpan.Zero)
        {
            return;
        }

        // Polled at a tenth of the interval (at most a minute), so a check taken by a backup postpones this one.
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Clamp(interval.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute)), time);
        do
        {
            if (check.IsDue(startup.Location, interval))
            {
                await Task.Factory.StartNew(() => check.Run(startup.Location, "periodic"), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
                health.Invalidate();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
