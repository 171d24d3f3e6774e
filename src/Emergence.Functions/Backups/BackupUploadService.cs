using System.Threading.Channels;
using Emergence.Functions.Health;
using Emergence.Functions.Startup;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Offsite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Emergence.Functions.Backups;

/// <summary>
/// Copies backups off the volume in the background, one run at a time: once after startup, and after
/// each backup the functions take. Requests made while a run is going are folded into one more run, so
/// a backup is never left waiting for the next schedule. Does nothing when off-volume copies are off.
/// </summary>
public sealed class BackupUploadService(StartupState state, OffsiteConnector connector, BackupUploader replicator, HealthCache health, ILogger<BackupUploadService> logger) : BackgroundService
{
    /// <summary>How long a run waits for another process's run (the CLI's) to finish.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(30);

    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private int _completedRuns;

    /// <summary>The last run's result, for diagnostics.</summary>
    public OffsiteSyncResult? LastResult { get; private set; }

    /// <summary>How many runs have finished since the app started.</summary>
    public int CompletedRuns => Volatile.Read(ref _completedRuns);

    /// <summary>Asks for a run; returns at once.</summary>
    public void Request()
    {
        if (connector.Enabled)
        {
            _requests.Writer.TryWrite(true);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var startup = await state.WhenCompleteAsync(stoppingToken).ConfigureAwait(false);
        if (!startup.Succeeded || !connector.Enabled)
        {
            return;
        }

        Request();
        await foreach (var _ in _requests.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            // The replicator logs and records its own failures; anything else must not escape a
            // BackgroundService (that stops the worker), so it is logged and the next request runs again.
            OffsiteSyncResult result;
            try
            {
                result = await replicator.SyncAsync(startup.Location, LockWait, cancellationToken: stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                PersistenceLog.OffsiteUploadFailed(logger, ex, "(upload run)", connector.Container ?? "", ex.Message);
                result = new OffsiteSyncResult(true, connector.Container, [], [], null, ex.Message);
            }

            LastResult = result;
            health.Invalidate();
            Interlocked.Increment(ref _completedRuns);
        }
    }
}
