using Emergence.Functions.Startup;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Emergence.Functions.Replication;

/// <summary>
/// Runs the WAL replicator once startup has succeeded (and while <c>Persistence__Replication__Enabled</c> is
/// true): every commit is durable in a segment under the backup directory within the interval, so a lost
/// volume or a corrupt file costs seconds of data rather than everything since the last backup.
/// </summary>
public sealed class ReplicationService(StartupState state, Replicator replicator, IOptions<PersistenceOptions> options) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var startup = await state.WhenCompleteAsync(stoppingToken).ConfigureAwait(false);
        if (!startup.Succeeded || !options.Value.Replication.Enabled)
        {
            return;
        }

        // The replicator blocks on file reads and fsyncs: it runs on a thread of its own.
        await Task.Factory.StartNew(() => replicator.RunAsync(startup.Location, stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap().ConfigureAwait(false);
    }
}
