using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;
using Microsoft.Data.Sqlite;
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
    ILogger<BackupService> logger)
{
    /// <summary>The lock file in the backup directory that one backup or rotation at a time holds.</summary>
    public const string LockFileName = ".backup.lock";

    private const int HashBufferSize = 1 << 20;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

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

    private async Task<BackupManifest?> CreateCoreAsync(DatabaseLocation location, BackupReason reason, TimeSpan lockWait, bool onlyIfChanged, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
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
            if (newest is not null && !ChangedSince(location.DatabasePath, newest))
            {
                return null;
            }

            PersistenceLog.BackupStarted(logger, reasonName, location.DatabasePath);
            var manifest = await OnOwnThread(() => Write(location, reasonName, newest, progress, cancellationToken)).ConfigureAwait(false);
            if (manifest is not null)
            {
                Guarded("rotate", location.BackupDirectory, () => Rotate(location, manifest.Filename));
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
        Guarded("sweep", location.BackupDirectory, () =>
        {
            SweepLeftovers(location.BackupDirectory, location.DatabasePath);
            Rotate(location, protectedName: null);
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

    private BackupManifest? Write(DatabaseLocation location, string reason, BackupManifest? unlessSameAs, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var source = location.DatabasePath;
        var directory = location.BackupDirectory;
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        BackupInventory inventory = null!;
        Guarded("sweep", directory, () => inventory = SweepLeftovers(directory, source));

        if (RegularFile.NotADatabaseFile(source) is { } what)
        {
            throw new BackupFailedException("preflight", source, $"the database path is {what}, not a database file");
        }

        if (!File.Exists(source))
        {
            throw new BackupFailedException("preflight", source, "the database file does not exist");
        }

        var baseline = inventory.NewestGood?.Manifest;

        var needed = BackupSpace.Required(BackupSpace.DatabaseBytes(source));
        var (available, _) = VolumeInspector.ReadSpace(directory);
        if (available < needed)
        {
            throw new BackupFailedException("preflight", directory, $"not enough free space: the backup needs about {needed} bytes, {available} are available");
        }

        var baseName = new BackupNaming(source).NextFreeName(directory, now);
        var compress = options.Value.Compression == BackupCompression.Brotli;
        var name = compress ? baseName + BackupNaming.CompressedSuffix : baseName;
        var finalPath = Path.Combine(directory, name);
        var tempPath = Path.Combine(directory, baseName) + BackupNaming.TempSuffix;
        var compressedTemp = finalPath + BackupNaming.TempSuffix;
        var manifestPath = finalPath + BackupNaming.ManifestSuffix;
        var manifestTemp = manifestPath + BackupNaming.TempSuffix;
        var step = "copy";
        var renamed = false;
        try
        {
            var expected = BackupSpace.DatabaseBytes(source);
            progress?.Report(new OperationProgress("copy", 0, expected));
            Copy(source, tempPath, expected, progress);
            cancellationToken.ThrowIfCancellationRequested();

            // The fsync (waiting on the disk) runs beside the hash and then quick_check (reading the copy from
            // the page cache, one after the other: one core for the backup, the others for the app); the copy
            // is renamed into place only once all three are done. A copy that is to be compressed is not
            // synced: it is deleted once the compressed file (which is) has been written, usually before
            // the kernel has written any of it back, so the disk never sees it.
            step = "checksum";
            var reporter = progress is null ? null : new SynchronizedProgress(progress);
            var syncing = compress ? Task.FromResult(true) : OnOwnThread(() =>
            {
                Durable.FsyncFile(tempPath);
                reporter?.Report(new OperationProgress("synced", 0, 0));
                return true;
            });
            (string Checksum, long Size) hashed;
            try
            {
                hashed = Sha256.OfFile(tempPath, OperationProgress.Checksum(reporter), cancellationToken);
            }
            catch
            {
                WaitQuietly(syncing);
                throw;
            }

            var (checksum, size) = hashed;
            var unchanged = unlessSameAs is not null && checksum == (unlessSameAs.ContentChecksum ?? unlessSameAs.Checksum);
            DatabaseFacts? facts = null;
            if (!unchanged)
            {
                step = "quick_check";
                reporter?.Report(new OperationProgress("quick_check", 0, 0));
                try
                {
                    facts = QuickCheck(tempPath);
                }
                catch
                {
                    WaitQuietly(syncing);
                    throw;
                }

                // The copy is page-exact: its check is a check of the live database as of the copy.
                integrity.Record(directory, new IntegrityRecord.IntegrityResult(now, facts.CheckResult, "backup", source));
            }

            // A failed fsync (ENOSPC or EIO surfacing at writeback) means the copy never became durable.
            step = "copy";
            syncing.GetAwaiter().GetResult();
            if (unchanged)
            {
                RemovePartials(tempPath);
                PersistenceLog.BackupUnchanged(logger, location.DatabasePath, unlessSameAs!.Filename);
                return null;
            }

            step = "quick_check";
            if (!facts!.IsOk)
            {
                throw new BackupFailedException(step, tempPath, $"the copy failed quick_check: {facts.CheckResult}");
            }

            var contentChecksum = checksum;
            if (compress)
            {
                step = "compress";
                progress?.Report(new OperationProgress("compress", 0, 0));
                (checksum, size) = Compress(tempPath, compressedTemp, cancellationToken);
                File.Delete(tempPath);
                tempPath = compressedTemp;
            }

            step = "rename";
            File.Move(tempPath, finalPath, overwrite: false);
            renamed = true;
            Durable.FsyncDirectory(directory);

            step = "manifest";
            var suspect = ContentLoss.LostEveryTable(baseline, facts.SchemaObjects);
            var manifest = new BackupManifest
            {
                Timestamp = now,
                Filename = name,
                Size = size,
                Checksum = checksum,
                SourcePath = source,
                BackupPath = finalPath,
                Reason = reason,
                QuickCheck = facts.CheckResult,
                SqliteVersion = SqliteRuntime.Version,
                PageSize = facts.PageSize,
                PageCount = facts.PageCount,
                UserVersion = facts.UserVersion,
                Compression = compress ? "brotli" : "none",
                ContentChecksum = contentChecksum,
                Sequence = inventory.NextSequence,
                SchemaObjects = facts.SchemaObjects,
                Suspect = suspect,
            };
            Durable.WriteFileAtomically(manifestTemp, manifestPath, JsonSerializer.SerializeToUtf8Bytes(manifest, PersistenceJson.Options));
            var durationMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
            PersistenceLog.BackupCompleted(logger, reason, finalPath, size, durationMs, checksum);
            if (suspect is not null)
            {
                PersistenceLog.BackupSuspect(logger, name, source, suspect, baseline!.Filename);
            }

            progress?.Report(new OperationProgress("done", size, size));
            return manifest;
        }
        catch (Exception ex) when (ex is not BackupFailedException and not OperationCanceledException)
        {
            var cause = Describe(ex, directory); // before the partial files go, while the disk is still as full as it was
            RemovePartials(tempPath, compressedTemp, manifestTemp, renamed ? finalPath : null);
            throw new BackupFailedException(step, step == "manifest" ? manifestPath : tempPath, cause, ex);
        }
        catch
        {
            RemovePartials(tempPath, compressedTemp, manifestTemp, renamed ? finalPath : null);
            throw;
        }
    }

    private void Copy(string source, string tempPath, long expectedBytes, IProgress<OperationProgress>? progress)
    {
        // One sqlite3_backup_step(-1) under a single read transaction: a consistent snapshot while writers
        // keep committing to the WAL. Incremental steps would restart on every write and might never finish.
        // The step reports nothing while it runs, so progress is read from the growing copy's size.
        using var ticker = progress is null ? null : time.CreateTimer(
            _ => progress.Report(new OperationProgress("copy", LengthOf(tempPath), expectedBytes)), null, ProgressInterval, ProgressInterval);
        using var from = connections.OpenMapped(source, SqliteOpenMode.ReadWrite);
        using var to = connections.OpenCopyTarget(tempPath);

        // The source is read through a memory map, which spares a copy per page (measured: ~20% faster for
        // 1 GiB). The copy needs no journal and no syncs while written: it is worthless until fsynced and renamed.
        // Its page writes reach the kernel gathered into 64 KiB ones (OpenCopyTarget): half the time for 1 GiB.
        Execute(to, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
        from.BackupDatabase(to);

        // The copy carries the source's WAL header. Switch it to a rollback journal so that a read-only
        // open (verification, restore) creates no -wal/-shm files beside it.
        Execute(to, "PRAGMA journal_mode = DELETE;");
    }

    /// <summary>Brotli-compresses a verified copy into <paramref name="destination"/> (fsynced), hashing what is written.</summary>
    private static (string Checksum, long Size) Compress(string source, string destination, CancellationToken cancellationToken)
    {
        using var hash = new Sha256();
        using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, HashBufferSize))
        {
            using (var hashing = new HashingStream(output, hash))
            using (var brotli = new BrotliStream(hashing, CompressionLevel.Fastest, leaveOpen: true))
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, HashBufferSize, FileOptions.SequentialScan))
            {
                input.CopyToAsync(brotli, cancellationToken).GetAwaiter().GetResult();
            }

            output.Flush(flushToDisk: true);
            return (hash.Finish(), output.Length);
        }
    }

    /// <summary>
    /// Runs blocking work (seconds of copying, hashing or waiting on the disk) on a thread of its own
    /// rather than a thread-pool thread. It runs at the app's priority: lowering a thread's nice value
    /// leaks, because every thread created while it runs (thread-pool workers, child processes) inherits it.
    /// </summary>
    private static Task<T> OnOwnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private DatabaseFacts QuickCheck(string path)
    {
        // Not memory-mapped, unlike the checks of existing backups (restores, `verify`): mapped, the check took
        // half the time, but the app's commits during backups were no better and by the median somewhat worse
        // (5 interleaved rounds of the benchmark's writer trials); here the app's latency comes first.
        using var connection = connections.OpenReadOnly(path);
        return DatabaseInspector.Check(connection, IntegrityCheck.Quick);
    }

    private static void WaitQuietly(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is SqliteException or IOException or OperationCanceledException)
        {
            // The step that failed first is the one reported.
            Debug.WriteLine(ex);
        }
    }

    private static long LengthOf(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }

    private static void Guarded(string step, string path, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackupFailedException(step, path, ex.Message, ex);
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Rotate(DatabaseLocation location, string? protectedName)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        var doomed = RetentionPolicy.SelectForDeletion(inventory.Verified, options.Value.Retention, protectedName);
        foreach (var backup in doomed)
        {
            // The manifest goes first: a backup without one is ignored, never half-trusted.
            File.Delete(backup.ManifestPath);
            File.Delete(backup.Path);
        }

        if (doomed.Count > 0)
        {
            Durable.FsyncDirectory(location.BackupDirectory);
        }

        if (doomed.Count > 0)
        {
            var deleted = string.Join(", ", doomed.Select(b => b.Name));
            PersistenceLog.BackupRotated(logger, inventory.Verified.Count - doomed.Count, doomed.Count, deleted);
        }

        SweepOrphans(inventory);
        PruneQuarantine(location.BackupDirectory);
    }

    /// <summary>
    /// Keeps the newest <see cref="PersistenceOptions.KeepBackups"/> quarantine directories (what restores replaced)
    /// and deletes older ones: by then at least as many restores have happened since, each quarantining what it
    /// replaced, so the oldest hold states long superseded. Without a bound, a restore loop would fill the volume.
    /// Only directories named as a restore names them are touched.
    /// </summary>
    private void PruneQuarantine(string backupDirectory)
    {
        var root = new DirectoryInfo(Path.Combine(backupDirectory, "quarantine"));
        if (!root.Exists)
        {
            return;
        }

        var stamped = root.EnumerateDirectories()
            .Where(d => d.LinkTarget is null && QuarantineName().IsMatch(d.Name))
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .ToList();
        var doomed = stamped.Skip(options.Value.KeepBackups).ToList();
        foreach (var directory in doomed)
        {
            directory.Delete(recursive: true);
        }

        if (doomed.Count > 0)
        {
            Durable.FsyncDirectory(root.FullName);
            var deleted = string.Join(", ", doomed.Select(d => d.Name));
            PersistenceLog.QuarantinePruned(logger, root.FullName, doomed.Count, deleted);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{8}_\d{6}(_\d+)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex QuarantineName();

    /// <summary>Removes leftovers and returns the scan it worked from (its backups are still valid after the sweep).</summary>
    private BackupInventory SweepLeftovers(string directory, string databasePath)
    {
        var inventory = BackupCatalog.Scan(directory, databasePath, time.GetUtcNow());
        var swept = new List<string>();
        foreach (var temp in inventory.TempFiles)
        {
            File.Delete(temp);
            swept.Add(Path.GetFileName(temp));
        }

        if (swept.Count > 0)
        {
            var names = string.Join(", ", swept);
            PersistenceLog.BackupLeftoversSwept(logger, swept.Count, names);
        }

        SweepOrphans(inventory);
        return inventory;
    }

    private void SweepOrphans(BackupInventory inventory)
    {
        var orphans = inventory.Orphans;
        foreach (var orphan in orphans)
        {
            File.Delete(orphan.Path);
        }

        if (orphans.Count > 0)
        {
            var names = string.Join(", ", orphans.Select(o => o.Name));
            PersistenceLog.BackupLeftoversSwept(logger, orphans.Count, names);
        }
    }

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

    private static void RemovePartials(params string?[] paths)
    {
        foreach (var path in paths)
        {
            if (path is null)
            {
                continue;
            }

            foreach (var candidate in SqliteFiles.WithSideFiles(path))
            {
                try
                {
                    File.Delete(candidate);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The next backup's sweep removes it.
                    Debug.WriteLine(ex);
                }
            }
        }
    }

    private static string Describe(Exception ex, string directory)
    {
        // SQLite reports ENOSPC as SQLITE_FULL (13) on most paths, but as a plain I/O error (10, e.g.
        // SQLITE_IOERR_WRITE) on others: an I/O error with no room left on the disk is a full disk.
        var (available, _) = VolumeInspector.ReadSpace(directory);
        var primaryCode = ex is SqliteException sqlite ? sqlite.SqliteErrorCode & 0xFF : 0; // extended codes carry the primary one in the low byte
        var full = primaryCode == 13
            || (primaryCode == 10 && available < BackupSpace.MinimumMarginBytes)
            || (ex is IOException io && (io.HResult & 0xFFFF) == 28)
            || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return full ? $"the disk is full ({available} bytes free in {directory}): {ex.Message}" : ex.Message;
    }
}
