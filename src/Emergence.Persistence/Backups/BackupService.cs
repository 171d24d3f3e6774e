using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Backups;

/// <summary>
/// Takes verified backups of the live database and rotates old ones. A backup is written to
/// <c>*.tmp</c>, fsynced, checksummed, checked with <c>quick_check</c>, renamed into place, and only
/// then given its manifest; any failure removes what it wrote.
/// </summary>
public sealed partial class BackupService(
    SqliteConnectionFactory connections,
    IOptions<PersistenceOptions> options,
    BackupActivity activity,
    IntegrityRecord integrity,
    TimeProvider time,
    ILogger<BackupService> logger,
    PersistenceMetrics? metrics = null,
    IHeldBackups? held = null)
{
    /// <summary>The lock file in the backup directory that one backup or rotation at a time holds.</summary>
    public const string LockFileName = ".backup.lock";

    private readonly BackupWriter _writer = new(connections, options.Value, integrity, time, logger);
    private readonly BackupRotation _rotation = new(options.Value, time, logger, held);

    /// <summary>
    /// Takes one verified backup of the database at <paramref name="location"/>, then rotates. Waits up
    /// to <paramref name="lockWait"/> for another backup to finish.
    /// </summary>
    /// <returns>The new backup's manifest.</returns>
    /// <exception cref="BackupFailedException">A step failed; the message names it, the path and the cause.</exception>
    public async Task<BackupManifest> CreateAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        (await CreateCoreAsync(location, reason, lockWait, onlyIfChanged: false, progress, cancellationToken).ConfigureAwait(false))!;

    /// <summary>
    /// Takes a verified backup only when the database differs from the newest verified backup: when its
    /// files changed after that backup was taken and a fresh copy's SHA-256 differs from it. Returns
    /// <see langword="null"/> when the newest backup already holds the same content; nothing is rotated then.
    /// </summary>
    /// <exception cref="BackupFailedException">A step failed.</exception>
    public Task<BackupManifest?> CreateIfChangedAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        CreateCoreAsync(location, reason, lockWait, onlyIfChanged: true, progress, cancellationToken);

    /// <summary>
    /// A snapshot for replication: a verified copy of the database taken now, its content held exactly at a known
    /// point of the log. Written as a new backup unless the newest backup already holds the same content (the
    /// copy is compared, not the files' times). Returns the backup holding that content, the log point and the
    /// content's page hashes.
    /// </summary>
    /// <exception cref="BackupFailedException">A step failed.</exception>
    public async Task<BackupSnapshot> SnapshotAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        BackupWriter.Written? written = null;
        var manifest = await CreateCoreAsync(location, reason, lockWait, onlyIfChanged: true, progress: null, cancellationToken, compareTimes: false, w => written = w).ConfigureAwait(false);
        var held = manifest ?? BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow()).Newest?.Manifest
            ?? throw new BackupFailedException("snapshot", location.BackupDirectory, "no backup holds the database's current content");
        return new BackupSnapshot(held, written!.Position, written.Pinned, written.Hashes);
    }

    private async Task<BackupManifest?> CreateCoreAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, bool onlyIfChanged, IProgress<OperationProgress>? progress, CancellationToken cancellationToken,
        bool compareTimes = true, Action<BackupWriter.Written>? observe = null)
    {
        var started = time.GetTimestamp();
        var result = MetricResults.Failed;
        try
        {
            var manifest = await CreateUnmeasuredAsync(location, reason, lockWait, onlyIfChanged, progress, compareTimes, observe, cancellationToken).ConfigureAwait(false);
            result = manifest is null ? MetricResults.Unchanged : MetricResults.Ok;
            return manifest;
        }
        catch (Exception ex) when (ex is BackupInProgressException or OperationCanceledException)
        {
            result = ex is BackupInProgressException ? MetricResults.Busy : MetricResults.Cancelled;
            throw;
        }
        finally
        {
            metrics?.BackupCompleted(result, time.GetElapsedTime(started));
        }
    }

    private async Task<BackupManifest?> CreateUnmeasuredAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, bool onlyIfChanged, IProgress<OperationProgress>? progress,
        bool compareTimes, Action<BackupWriter.Written>? observe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var reasonName = reason.ToManifestName();
        try
        {
            if (!File.Exists(location.DatabasePath))
            {
                // Before anything is created: a mistyped path must not grow a backup directory.
                throw new BackupFailedException("preflight", location.DatabasePath, "the database file does not exist");
            }

            EnsureDirectory(location.BackupDirectory);
            using var backupLock = await AcquireBackupLockAsync(location.BackupDirectory, lockWait, cancellationToken).ConfigureAwait(false);
            var newest = onlyIfChanged ? BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow()).Newest?.Manifest : null;
            if (newest is not null && compareTimes && !ChangedSince(location.DatabasePath, newest!))
            {
                return null;
            }

            PersistenceLog.BackupStarted(logger, reasonName, location.DatabasePath);
            var manifest = await OnOwnThread(() =>
            {
                BackupInventory swept = null!;
                // The rotation after the copy would delete all this one does (a newer backup only takes places); done first, it
                // leaves the copy the room, above all a base the restore window held until the space budget deleted its generation.
                BackupSteps.Housekeeping("rotate", location.BackupDirectory, () => _rotation.Rotate(location, protectedName: null));
                BackupSteps.Housekeeping("sweep", location.BackupDirectory, () => swept = _rotation.SweepLeftovers(location.BackupDirectory, location.DatabasePath));
                var written = _writer.Write(location, reasonName, swept, newest, progress, cancellationToken);
                observe?.Invoke(written);
                return written.Manifest;
            }).ConfigureAwait(false);
            if (manifest is not null)
            {
                BackupSteps.Housekeeping("rotate", location.BackupDirectory, () => _rotation.Rotate(location, manifest.Filename));
            }

            activity.RecordSuccess(location.BackupDirectory);
            return manifest;
        }
        catch (BackupFailedException ex)
        {
            PersistenceLog.BackupFailed(logger, ex, reasonName, ex.Step, ex.Path, ex.Cause);
            activity.RecordFailure(location.BackupDirectory, time.GetUtcNow(), ex.Message);
            throw;
        }
    }

    private static bool ChangedSince(string databasePath, BackupManifest newest)
    {
        // Any write touches the -wal (or, on checkpoint, the file) after the backup's start. Directory
        // metadata only: the live file is never opened with ordinary file APIs.
        if (!string.Equals(newest.SourcePath, databasePath, StringComparison.Ordinal))
        {
            return true;
        }

        var lastWrite = File.GetLastWriteTimeUtc(databasePath);
        var wal = databasePath + "-wal";
        if (File.Exists(wal) && File.GetLastWriteTimeUtc(wal) > lastWrite)
        {
            lastWrite = File.GetLastWriteTimeUtc(wal);
        }

        return lastWrite >= newest.Timestamp.UtcDateTime;
    }

    /// <summary>
    /// Under the backup lock, removes what interrupted backups left (<c>*.tmp</c>, backups without a
    /// manifest) and deletes verified backups beyond the retention count. Startup runs it, so a backup
    /// killed mid-write leaves nothing past the next start.
    /// </summary>
    /// <exception cref="BackupFailedException">The lock could not be taken or a file could not be deleted.</exception>
    public async Task SweepAndRotateAsync(DatabaseLocation location, TimeSpan lockWait, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!Directory.Exists(location.BackupDirectory))
        {
            return;
        }

        using var backupLock = await AcquireBackupLockAsync(location.BackupDirectory, lockWait, cancellationToken).ConfigureAwait(false);
        BackupSteps.Housekeeping("sweep", location.BackupDirectory, () =>
        {
            _rotation.SweepLeftovers(location.BackupDirectory, location.DatabasePath);
            _rotation.Rotate(location, protectedName: null);
        });
    }

    private async Task<VolumeLock> AcquireBackupLockAsync(string backupDirectory, TimeSpan wait, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(backupDirectory, LockFileName);
        try
        {
            if (wait <= TimeSpan.Zero)
            {
                return VolumeLock.TryAcquire(lockPath, time, out var holder) ?? throw new BackupInProgressException(lockPath, holder);
            }

            return await VolumeLock.AcquireAsync(lockPath, wait, logger, time, cancellationToken).ConfigureAwait(false);
        }
        catch (VolumeLockTimeoutException ex)
        {
            throw new BackupInProgressException(lockPath, ex.Holder);
        }
        catch (IOException ex)
        {
            throw new BackupFailedException("lock", lockPath, ex.Message, ex);
        }
    }

    /// <summary>
    /// Runs blocking work (seconds of copying, hashing or waiting on the disk) on a thread of its own
    /// rather than a thread-pool thread. It runs at the app's priority: lowering a thread's nice value
    /// leaks, because every thread created while it runs (thread-pool workers, child processes) inherits it.
    /// </summary>
    internal static Task<T> OnOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void EnsureDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackupFailedException("preflight", directory, $"cannot create the backup directory: {ex.Message}", ex);
        }
    }
}
