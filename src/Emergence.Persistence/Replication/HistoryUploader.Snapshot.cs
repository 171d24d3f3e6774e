using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;

namespace Emergence.Persistence.Replication;

/// <summary>The copy of the current generation's snapshot, run beside the segment uploads.</summary>
public sealed partial class HistoryUploader
{
    /// <summary>How long the copy of a snapshot waits for another upload run to finish.</summary>
    public static readonly TimeSpan SnapshotLockWait = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Segments of a generation are only restorable from its snapshot on. When the container's newest backup is
    /// older than the current generation's snapshot, starts copying the backups (as the backup timer does), beside
    /// the segments: a large backup can take minutes over a real network. Returns whether the snapshot is there,
    /// and why a finished copy failed.
    /// </summary>
    private async Task<(bool Ready, string? Problem)> SnapshotAsync(DatabaseLocation location, OffsiteHistory remote, State state, GenerationManifest current, SnapshotCopy snapshot, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (snapshot.Running is { } running && (snapshot.Wait || running.IsCompleted))
            {
                var result = await running.ConfigureAwait(false);
                snapshot.Running = null;
                await state.ListBackupsAsync(remote, cancellationToken).ConfigureAwait(false);
                if (result.Error is { } error && !state.Holds(current))
                {
                    return (false, $"the snapshot of generation {current.Id} could not be copied off the volume: {error}");
                }
            }

            if (state.Holds(current))
            {
                return (true, null);
            }

            if (snapshot.Running is not null)
            {
                return (false, null);
            }

            // Another upload run (the backup timer's) may hold the upload lock for minutes; it is waited for, not an error.
            snapshot.Running = backups.SyncAsync(location, SnapshotLockWait, cancellationToken: cancellationToken);
            if (!snapshot.Wait)
            {
                return (false, null);
            }
        }
    }

    /// <summary>A copy of the backups running beside the segment uploads.</summary>
    private sealed class SnapshotCopy
    {
        /// <summary>The copy in flight.</summary>
        public Task<OffsiteSyncResult>? Running { get; set; }

        /// <summary>Whether a pass waits for the copy (a one-off pass) rather than going on with the segments.</summary>
        public bool Wait { get; init; }

        /// <summary>Waits for a copy in flight to end (it stops when cancelled).</summary>
        public async Task StopAsync()
        {
            if (Running is { } running)
            {
                await running.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }
}
