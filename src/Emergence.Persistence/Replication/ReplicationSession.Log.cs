using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Platform;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Replication;

// The held reader and the checkpoint: how the log can restart without losing a frame.
public sealed partial class ReplicationSession
{
    /// <summary>
    /// Lets the log restart: with the write lock held (writers wait, readers do not), copies the last
    /// commits, checkpoints every frame, and opens the next reader before releasing the lock, so the first
    /// writer after it restarts the log and no frame leaves it uncopied. The open segment is made durable
    /// at the next poll, or at the next step that finds the log restarted.
    /// </summary>
    private void Checkpoint(DateTimeOffset started, List<SegmentManifest> closed)
    {
        // Most frames are checkpointed before the lock is taken, so that holding it costs little; under it
        // the last commits are only copied (made durable once it is released) and the rest checkpointed.
        using var span = PersistenceActivities.Start(PersistenceActivities.Checkpoint);
        using var checkpointer = _connections.OpenForProbe(_location.DatabasePath);
        var (logFrames, backfilled) = RunCheckpoint(checkpointer);

        // A fast writer grows the log while that runs, past the reader's mark, which no checkpoint passes: step along
        // (the copy moves the mark) and checkpoint again, until little is left for the time the lock is held.
        for (var round = 0; round < CatchUpRounds && (long)(logFrames - backfilled) * FrameBytes() > CatchUpBytes; round++)
        {
            Handover();
            Append(started, closed);

            (logFrames, backfilled) = RunCheckpoint(checkpointer);
        }

        using var writer = _connections.OpenForProbe(_location.DatabasePath);
        using (PersistenceActivities.Start(PersistenceActivities.WaitingForWriters))
        {
            LockWriters(writer);
        }

        using var held = PersistenceActivities.Start(PersistenceActivities.HoldingWriters);
        try
        {
            // A reader begun now sees every commit (no writer can be between writing one and publishing it): all are copied.
            Handover();
            Append(started, closed);

            EndRead(_current);
            var (frames, done) = RunCheckpoint(checkpointer);
            BeginRead(_current);
            var logBytes = RegularFile.LengthOrZero(WalPath);
            PersistenceLog.ReplicationCheckpoint(_logger, _location.DatabasePath, logBytes, done, frames);
        }
        finally
        {
            DatabaseInspector.Execute(writer, "ROLLBACK");
        }
    }

    /// <summary>How many times a checkpoint steps along the log and checkpoints again before it takes the lock.</summary>
    private const int CatchUpRounds = 3;

    /// <summary>What may be left to checkpoint under the lock without another round first.</summary>
    private const long CatchUpBytes = 512 << 10;

    private long FrameBytes() => WalFormat.FrameHeaderSize + (long)(Position?.PageSize ?? 4096);

    /// <summary>How long <see cref="LockWriters"/> tries back to back before it yields the processor between tries.</summary>
    private static readonly TimeSpan TightTries = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the write lock (<c>BEGIN IMMEDIATE</c>) against a writer that commits back to back. SQLite's own busy
    /// handler sleeps between tries (1, 2, 5, 10 … 100 ms), and a writer that takes the lock again a few microseconds
    /// after each commit holds it at every try: measured here, the checkpoint then waited up to seconds while the log
    /// grew. Trying again at once (yielding the processor between tries) takes the lock in one of those gaps.
    /// </summary>
    /// <exception cref="SqliteException">The lock was not had within the connection's busy timeout, or SQLite failed.</exception>
    private void LockWriters(SqliteConnection connection)
    {
        var handle = connection.Handle!;
        SQLitePCL.raw.sqlite3_busy_timeout(handle, 0);
        var started = _time.GetTimestamp();
        var spin = default(SpinWait);
        while (true)
        {
            var rc = SQLitePCL.raw.sqlite3_exec(handle, "BEGIN IMMEDIATE");
            if (rc == SQLitePCL.raw.SQLITE_OK)
            {
                return;
            }

            if ((rc & 0xFF) != SQLitePCL.raw.SQLITE_BUSY || _time.GetElapsedTime(started) > _connections.BusyTimeout)
            {
                SqliteException.ThrowExceptionForRC(rc, handle);
            }

            // The writer leaves the lock free for microseconds between commits: tries back to back find that gap
            // within milliseconds, where yielding the processor between tries left it to be preempted for hundreds.
            if (_time.GetElapsedTime(started) < TightTries)
            {
                Thread.SpinWait(50);
            }
            else
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }

    private static (int Frames, int Checkpointed) RunCheckpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt32(1), reader.GetInt32(2)) : (0, 0);
    }

    /// <summary>Opens a read transaction on the other connection, then ends the one held: there is always one.</summary>
    private void Handover()
    {
        var next = 1 - _current;
        BeginRead(next);
        EndRead(_current);
        _current = next;
    }

    private void BeginRead(int index)
    {
        EndRead(index);
        var transaction = _readers[index].BeginTransaction(deferred: true);
        using var command = _readers[index].CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM sqlite_schema";
        command.ExecuteScalar();
        _transactions[index] = transaction;
    }

    private void EndRead(int index)
    {
        if (_transactions[index] is { } transaction)
        {
            transaction.Rollback();
            transaction.Dispose();
            _transactions[index] = null;
        }
    }
}
