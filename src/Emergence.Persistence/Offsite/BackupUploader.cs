using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Offsite;

/// <summary>
/// Copies verified local backups to the off-volume container and rotates it. Each run uploads the local
/// backups newer than the container's newest (only the newest local one when the container is empty),
/// oldest first, then keeps the newest <see cref="OffsiteOptions.KeepBackups"/> and removes incomplete
/// uploads. A failure never touches the local backups: it is logged, recorded for health, and the next
/// run starts again from the first backup not yet copied.
/// </summary>
public sealed class BackupUploader(
    OffsiteConnector connector,
    OffsiteActivity activity,
    IOptions<PersistenceOptions> options,
    TimeProvider time,
    ILogger<BackupUploader> logger)
{
    /// <summary>The lock file in the backup directory that one upload run at a time holds.</summary>
    public const string LockFileName = ".offsite.lock";

    /// <summary>
    /// Runs one upload and rotation to every configured target, one after the other under one lock; each target's
    /// outcome is recorded for health on its own, and one target failing never stops the other. Returns what it did
    /// (with two targets, both outcomes joined); never throws for a storage or file failure (the result carries the
    /// error), only for cancellation.
    /// </summary>
    public async Task<OffsiteSyncResult> SyncAsync(DatabaseLocation location, TimeSpan lockWait, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        var targets = connector.Targets(location);
        if (targets.Count == 0)
        {
            return OffsiteSyncResult.Disabled;
        }

        var directory = location.BackupDirectory;
        VolumeLock runLock;
        try
        {
            Directory.CreateDirectory(directory);
            runLock = await VolumeLock.AcquireAsync(Path.Combine(directory, LockFileName), lockWait, logger, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return OffsiteSyncResult.Combine([.. targets.Select(store => Failed(directory, store, "(listing the container)", [], ex))]);
        }

        using (runLock)
        {
            var results = new List<OffsiteSyncResult>();
            foreach (var store in targets)
            {
                results.Add(await SyncTargetAsync(location, store, progress, cancellationToken).ConfigureAwait(false));
            }

            return OffsiteSyncResult.Combine(results);
        }
    }

    private async Task<OffsiteSyncResult> SyncTargetAsync(DatabaseLocation location, OffsiteStore store, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var directory = location.BackupDirectory;
        var uploaded = new List<OffsiteBackup>();
        string current = "(listing the container)";
        try
        {
            var inventory = await store.ScanAsync(cancellationToken).ConfigureAwait(false);
            var complete = inventory.Backups.Where(b => b.IsComplete).ToList();
            foreach (var backup in Pending(BackupCatalog.Scan(directory, location.DatabasePath, time.GetUtcNow()).Verified, complete))
            {
                current = backup.Name;
                var started = time.GetTimestamp();
                var copy = await store.UploadAsync(backup, progress, cancellationToken).ConfigureAwait(false);
                var durationMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
                PersistenceLog.OffsiteUploaded(logger, copy.Name, store.Container, copy.Size, durationMs, copy.Manifest!.Checksum);
                uploaded.Add(copy);
            }

            current = "(rotating the container)";
            var (deleted, count) = await RotateAsync(store, inventory, uploaded, cancellationToken).ConfigureAwait(false);
            activity.RecordSuccess(directory, Record(uploaded), count, time.GetUtcNow(), store.Kind);
            return new OffsiteSyncResult(true, store.Container, uploaded, deleted, count, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Failed(directory, store, current, uploaded, ex);
        }
    }

    private OffsiteSyncResult Failed(string directory, OffsiteStore store, string current, List<OffsiteBackup> uploaded, Exception ex)
    {
        var cause = ex switch
        {
            OffsiteUnavailableException => ex.Message,
            VolumeLockTimeoutException => $"another upload run holds {ex.Message}",
            _ => OffsiteStore.Describe(ex),
        };
        PersistenceLog.OffsiteUploadFailed(logger, ex, current, store.Container, cause);
        activity.RecordFailure(directory, Record(uploaded), time.GetUtcNow(), $"copying {current} to {Describe(store)} failed: {cause}", store.Kind);
        return new OffsiteSyncResult(true, store.Container, uploaded, [], null, cause);
    }

    /// <summary>A target as messages name it: <c>container NAME</c> or <c>bucket NAME</c>.</summary>
    public static string Describe(OffsiteStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return $"{(store.Kind == "s3" ? "bucket" : "container")} {store.Container}";
    }

    /// <summary>
    /// The local backups to copy, oldest first: those newer than the container's newest complete copy,
    /// or only the newest local one when the container holds none. One stamped in the future goes last: once in
    /// the container its stamp decides what the next run copies, so a run that fails must not leave it there
    /// ahead of the others.
    /// </summary>
    public static IReadOnlyList<BackupEntry> Pending(IReadOnlyList<BackupEntry> localVerified, IReadOnlyList<OffsiteBackup> remoteComplete)
    {
        ArgumentNullException.ThrowIfNull(localVerified);
        ArgumentNullException.ThrowIfNull(remoteComplete);
        if (remoteComplete.Count == 0)
        {
            return localVerified.Count == 0 ? [] : [localVerified[0]];
        }

        var newest = remoteComplete[0];
        return [.. localVerified.Where(b => (b.Stamp, b.Sequence).CompareTo((newest.Stamp, newest.Sequence)) > 0).Reverse().OrderBy(b => b.IsFromTheFuture)];
    }

    private async Task<(IReadOnlyList<string> Deleted, int Count)> RotateAsync(OffsiteStore store, OffsiteInventory inventory, List<OffsiteBackup> uploaded, CancellationToken cancellationToken)
    {
        var names = uploaded.Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
        var listed = inventory.Backups;
        var complete = listed.Where(b => b.IsComplete && !names.Contains(b.Name)).Concat(uploaded)
            .OrderByDescending(b => (b.Stamp, b.Sequence)).ToList();
        var keep = options.Value.Offsite.KeepBackups;
        var deleted = new List<string>();
        foreach (var old in complete.Skip(keep))
        {
            await store.DeleteAsync(old.Name, cancellationToken).ConfigureAwait(false);
            deleted.Add(old.Name);
        }

        // Blobs left by interrupted uploads or rotations: this run holds the upload lock, so none is in flight.
        foreach (var incomplete in listed.Where(b => !b.IsComplete && !names.Contains(b.Name)))
        {
            await store.DeleteBlobAsync(incomplete.Name, cancellationToken).ConfigureAwait(false);
            deleted.Add(incomplete.Name);
        }

        foreach (var stray in inventory.StrayManifests)
        {
            await store.DeleteBlobAsync(stray, cancellationToken).ConfigureAwait(false);
            deleted.Add(stray);
        }

        if (deleted.Count > 0)
        {
            var list = string.Join(", ", deleted);
            PersistenceLog.OffsiteRotated(logger, store.Container, list);
        }

        return (deleted, Math.Min(complete.Count, keep));
    }

    private OffsiteActivity.UploadRecord? Record(List<OffsiteBackup> uploaded) =>
        uploaded.Count == 0 ? null : new OffsiteActivity.UploadRecord(uploaded[^1].Name, uploaded[^1].Manifest!.Timestamp, time.GetUtcNow());
}
