using Emergence.Functions.Startup;
using Emergence.Persistence.Health;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Monitors;

/// <summary>Re-inspects the volume on an interval once startup is done, logging a warning when its state changes.</summary>
public sealed class VolumeMonitor(StartupState state, VolumeWatch watch, IOptions<FunctionAppOptions> options, TimeProvider time) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var location = (await state.WhenCompleteAsync(stoppingToken).ConfigureAwait(false)).Location;
        watch.Check(location);
        using var timer = new PeriodicTimer(options.Value.VolumeCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            watch.Check(location);
        }
    }
}
