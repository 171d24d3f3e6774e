using Emergence.Persistence.Startup;
using Microsoft.Extensions.Hosting;

namespace Emergence.Functions.Startup;

/// <summary>
/// Runs the startup sequence when the worker starts and keeps the volume lock until it stops. It
/// runs in the background so a long lock wait cannot hold up the worker's connection to the host;
/// until it finishes, health answers 503 and the backup functions wait. It never throws: a failed
/// startup is recorded for health, not allowed to kill the worker.
/// </summary>
public sealed class StartupService(StartupSequence sequence, StartupState state) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken) =>
        state.Complete(await sequence.RunAsync(stoppingToken).ConfigureAwait(false));

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        state.Result?.Lock?.Dispose();
    }
}
