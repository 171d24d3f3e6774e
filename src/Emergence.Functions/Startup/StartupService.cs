using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Startup;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Startup;

/// <summary>
/// Runs the startup sequence when the worker starts and keeps the volume lock until it stops. It
/// runs in the background so a long lock wait cannot hold up the worker's connection to the host;
/// until it finishes, health answers 503 and the backup functions wait. A required volume that is missing
/// (or read-only, or not where Railway mounted it) is waited for, checked every
/// <see cref="FunctionAppOptions.VolumeCheckInterval"/> and logged at error level each time, with nothing
/// created meanwhile; once it can take data, startup goes on by itself. It never throws: a failed startup is
/// recorded for health, not allowed to kill the worker.
/// </summary>
public sealed class StartupService(StartupSequence sequence, StartupState state, DatabaseLocator locator, TimerSettings timers, IOptions<FunctionAppOptions> options, TimeProvider time, ILogger<StartupService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (timers.Problem() is { } unresolved)
        {
            // Before anything touches the volume: a deploy with a disabled timer must not go live.
            PersistenceLog.StartupFailed(logger, null, "settings", unresolved);
            state.Complete(new StartupResult { Location = locator.Configured(), FailedStep = "settings", Failure = unresolved });
            return;
        }

        try
        {
            var interval = options.Value.VolumeCheckInterval;
            while (sequence.VolumeProblem() is { } problem)
            {
                state.WaitForVolume(problem);
                PersistenceLog.VolumeAwaited(logger, problem, (int)interval.TotalSeconds);
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
            }

            state.WaitForVolume(null);
            state.Complete(await sequence.RunAsync(state.WaitForLock, stoppingToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An exception escaping a BackgroundService stops the host, and the worker with it: record
            // it for health (503 with the cause) instead, so Railway's healthcheck reports it.
            PersistenceLog.StartupFailed(logger, ex, "startup", ex.Message);
            state.Complete(new StartupResult { Location = locator.Configured(), FailedStep = "startup", Failure = ex.Message });
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        state.Result?.Lock?.Dispose();
    }
}
