using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// The quarantine and swap steps: the current database and its <c>-wal</c>/<c>-shm</c> are kept in
/// <c>quarantine/&lt;stamp&gt;/</c> (its WAL folded in first unless it is known damaged), then the verified staging
/// file is renamed over the database: at every instant the database path holds either the old database or the
/// restored one, complete. Afterwards the restore is recorded: the live database's last integrity check, the
/// restore record, and the end of the replaced database's newest generation.
/// </summary>
internal sealed class RestoreSwap(SqliteConnectionFactory connections, IntegrityRecord integrity, TimeProvider time, ILogger logger)
{
    /// <summary>Swaps the verified staging file in and records it.</summary>
    /// <exception cref="RestoreFailedException">The swap failed; the database was left in place.</exception>
    public RestoreResult Complete(DatabaseLocation location, BackupManifest manifest, string why, bool knownDamaged, IReadOnlyList<BackupVerification> skipped)
    {
        var staging = RestoreStaging.PathFor(location);
        RestoreStaging.Sweep(staging, keepFile: true);
        string? quarantine;
        try
        {
            quarantine = Swap(location, staging, checkpointFirst: !knownDamaged);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Every step before the final rename leaves the database in place; the rename is atomic.
            RestoreStaging.Sweep(staging);
            throw new RestoreFailedException($"Restoring {manifest.Filename} failed while swapping it in: {ex.Message}. The database was left in place.", ex);
        }

        // What is now in place passed quick_check as the staged copy: the live database's last check.
        var restoredAt = time.GetUtcNow();
        integrity.Record(location.BackupDirectory, new IntegrityRecord.IntegrityResult(restoredAt, "ok", "restore", location.DatabasePath));
        RestoreRecord.Write(location.BackupDirectory, new RestoreRecord.Restore(restoredAt, manifest.Filename, why, quarantine, location.DatabasePath));
        // The history so far is not this database's any more past this moment: its newest generation ends here.
        try
        {
            new ReplicationStore(location.BackupDirectory).MarkRestored(location.DatabasePath, restoredAt, $"restored {manifest.Filename}: {why}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The database is restored; a volume that takes no record also takes no segment, so no replicator extends that generation.
            System.Diagnostics.Debug.WriteLine(ex);
        }
        PersistenceLog.RestorePerformed(logger, location.DatabasePath, manifest.Filename, why, quarantine ?? "(nothing was replaced)");
        return new RestoreResult(location.DatabasePath, manifest, quarantine, skipped);
    }

    private string? Swap(DatabaseLocation location, string staging, bool checkpointFirst)
    {
        var database = location.DatabasePath;
        if (checkpointFirst)
        {
            Checkpoint(database);
        }

        var present = SqliteFiles.WithSideFiles(database).Where(File.Exists).ToList();
        string? quarantine = null;
        if (present.Count > 0)
        {
            quarantine = CreateQuarantineDirectory(location.BackupDirectory);
            foreach (var file in present)
            {
                var target = Path.Combine(quarantine, Path.GetFileName(file));
                if (!Durable.TryHardLink(file, target))
                {
                    // Different file systems: a copy, made while this process holds no connection to the file.
                    Durable.CopyFile(file, target);
                }
            }

            Durable.FsyncDirectory(quarantine);
            Durable.FsyncDirectory(Path.GetDirectoryName(quarantine)!);
        }

        // A stale -wal beside the new file would be replayed into it: remove side files before the swap.
        SqliteFiles.DeleteSideFiles(database);

        Durable.FsyncDirectory(location.DatabaseDirectory);
        File.Move(staging, database, overwrite: true);
        Durable.FsyncDirectory(location.DatabaseDirectory);
        return quarantine;
    }

    private void Checkpoint(string database)
    {
        // Fold the WAL into the file so the quarantined copy is whole even without its -wal. A file that
        // does not open, or is not a database, is quarantined exactly as found.
        if (new FileInfo(database) is not { Exists: true, Length: > 0 })
        {
            return;
        }

        try
        {
            using var connection = connections.OpenForProbe(database);
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // A database that cannot checkpoint is quarantined with its -wal as it is.
        }
    }

    private string CreateQuarantineDirectory(string backupDirectory)
    {
        var root = Path.Combine(backupDirectory, RestoreService.QuarantineDirectoryName);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        for (var n = 1; ; n++)
        {
            var candidate = Path.Combine(root, n == 1 ? stamp : $"{stamp}_{n.ToString(CultureInfo.InvariantCulture)}");
            if (!Directory.Exists(candidate))
            {
                Directory.CreateDirectory(candidate);
                return candidate;
            }
        }
    }
}
