using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The replicator against a real WAL written by a real connection, and restores to a point from what it wrote,
/// read back with the sqlite3 CLI. The test drives the polls and the clock, so "seen at" times are exact.
/// </summary>
public abstract class ReplicationTest : IDisposable
{
    private readonly RowsDatabase _db = new();

    protected TestHarness H => _db.H;

    protected SqliteConnection Writer => _db.Writer;

    public void Dispose() => _db.Dispose();

    /// <summary>Commits <paramref name="count"/> rows, one transaction each, all in batch <paramref name="batch"/>.</summary>
    protected void Commit(int count, int batch, SqliteConnection? connection = null) => _db.Commit(count, batch, connection);

    protected Task<ReplicationSession> OpenAsync(long checkpointBytes = 64L << 20, string? after = null) =>
        ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), H.Get<BackupService>(), H.Time, NullLogger.Instance, checkpointBytes, after, TestContext.Current.CancellationToken);

    protected RestoreResult RestoreTo(DateTimeOffset? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>Another process checkpoints: the sqlite3 CLI, read-write. Its result row: busy, log frames, checkpointed frames.</summary>
    protected string Checkpoint(string mode)
    {
        var (exit, output, error) = Shell.Run("sqlite3", "-batch", H.DatabasePath, $"PRAGMA wal_checkpoint({mode});");
        Assert.True(exit == 0, $"sqlite3 exited {exit}: {error}");
        return output.Trim();
    }

    protected static void Execute(SqliteConnection connection, string sql) => RowsDatabase.Execute(connection, sql);

    /// <summary>Rows 1..N with no gap and nothing else, as read by the sqlite3 CLI, and the file's integrity.</summary>
    protected (int Count, bool Prefix, string Integrity) ReadBack() => _db.ReadBack();

    protected void Sqlite3Checkpoint() => Assert.Equal(0, Shell.Run("sqlite3", "-batch", H.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
}
