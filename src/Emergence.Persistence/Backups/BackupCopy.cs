using Emergence.Persistence.Database;
using Emergence.Persistence.Platform;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Backups;

/// <summary>
/// A backup's first step: the consistent, page-exact copy of the live database into a temporary file, taken under one
/// read transaction, pinned to a log position when writers can be held off for a moment.
/// </summary>
internal sealed class BackupCopy(SqliteConnectionFactory connections, TimeProvider time)
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Copies the database; returns the log position the copy holds, whether it was read with writers held off, and when its content was fixed.</summary>
    public (WalPosition? Position, bool Pinned, DateTimeOffset ContentAt) Write(string source, string tempPath, long expectedBytes, IProgress<OperationProgress>? progress)
    {
        // One sqlite3_backup_step(-1) under a single read transaction: a consistent snapshot while writers
        // keep committing to the WAL. Incremental steps would restart on every write and might never finish.
        // The step reports nothing while it runs, so progress is read from the growing copy's size.
        using var ticker = progress is null ? null : time.CreateTimer(
            _ => progress.Report(new OperationProgress("copy", RegularFile.LengthOrZero(tempPath), expectedBytes)), null, ProgressInterval, ProgressInterval);
        using var from = connections.OpenMapped(source, SqliteOpenMode.ReadWrite);
        using var to = connections.OpenCopyTarget(tempPath);

        // The source is read through a memory map, which spares a copy per page (measured: ~20% faster for
        // 1 GiB). The copy needs no journal and no syncs while written: it is worthless until fsynced and renamed.
        // Its page writes reach the kernel gathered into 64 KiB ones (OpenCopyTarget): half the time for 1 GiB.
        DatabaseInspector.Execute(to, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
        var (position, pinned) = Pin(from, source);
        var contentAt = time.GetUtcNow();
        try
        {
            from.BackupDatabase(to);
        }
        finally
        {
            if (pinned)
            {
                DatabaseInspector.Execute(from, "COMMIT");
            }
        }

        // The copy carries the source's WAL header. Switch it to a rollback journal so that a read-only
        // open (verification, restore) creates no -wal/-shm files beside it.
        DatabaseInspector.Execute(to, "PRAGMA journal_mode = DELETE;");
        // Unpinned, the copy's read began inside the backup step: only its end bounds the commits it holds.
        return (position, pinned, pinned ? contentAt : time.GetUtcNow());
    }

    /// <summary>
    /// Opens the read transaction the copy is taken under while no writer can commit, and reads the log's end
    /// then: the copy holds exactly the commits up to that point of the log, which is what a restore replays
    /// history from. The write lock is held only for the moment of the read (a scan of the <c>-wal</c> with ordinary
    /// reads; the database file and <c>-shm</c> are never opened that way). When the lock cannot be had within the
    /// busy timeout, the copy is taken unpinned (its position unknown), as a plain backup.
    /// </summary>
    private (WalPosition? Position, bool Pinned) Pin(SqliteConnection from, string source)
    {
        using var gate = connections.OpenForProbe(source);
        try
        {
            DatabaseInspector.Execute(gate, "BEGIN IMMEDIATE");
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6)
        {
            return (null, false);
        }

        try
        {
            DatabaseInspector.Execute(from, "BEGIN; SELECT count(*) FROM sqlite_schema;");
            return (WalTail.EndOf(source + "-wal", PublishedLogEnd.Of(from)), true);
        }
        finally
        {
            DatabaseInspector.Execute(gate, "ROLLBACK");
        }
    }
}
