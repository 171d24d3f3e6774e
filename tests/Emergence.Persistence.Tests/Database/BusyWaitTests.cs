using System.Diagnostics;
using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Database;

/// <summary>How the app's connections wait for a lock another connection holds.</summary>
public sealed class BusyWaitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("emergence-busy-").FullName;

    private string DatabasePath => Path.Combine(_root, "database.sqlite");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Schedule_TheFirstMillisecondInShortSteps_ThenSqlitesOwnSleeps()
    {
        // SQLite's own handler sleeps 1 ms before its first try again: a lock held for 50 µs cost a millisecond.
        Assert.Equal(50, BusyWait.DelayMicroseconds(0));
        Assert.Equal(50, BusyWait.DelayMicroseconds(BusyWait.Steps - 1));
        Assert.Equal(1_000, BusyWait.WaitedMicroseconds(BusyWait.Steps));
        Assert.Equal([1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 25_000, 25_000, 25_000, 50_000, 50_000, 100_000, 100_000],
            Enumerable.Range(BusyWait.Steps, 13).Select(BusyWait.DelayMicroseconds));
        Assert.Equal(1_000 + 328_000 + 100_000, BusyWait.WaitedMicroseconds(BusyWait.Steps + 13));
    }

    [Fact]
    public async Task Writer_MeetingTheLockHeld_WaitsAndCommitsOnceItIsReleased()
    {
        var factory = new SqliteConnectionFactory();
        using var holder = HoldWriteLock(factory);
        var waitsBefore = BusyWait.Waits;
        var writer = Task.Run(() =>
        {
            using var connection = factory.OpenExisting(DatabasePath);
            DatabaseInspector.Execute(connection, "INSERT INTO t VALUES (1)");
        }, TestContext.Current.CancellationToken);

        // The writer is waiting once it has slept at least once; the lock is still held then.
        await Polling.Until(() => BusyWait.Waits > waitsBefore || writer.IsCompleted, "the writer to wait for the lock", TimeSpan.FromSeconds(5));
        Assert.False(writer.IsCompleted, "the writer committed while another connection held the write lock");
        DatabaseInspector.Execute(holder, "ROLLBACK");

        await writer.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal("1", Sqlite3.Query(DatabasePath, "SELECT count(*) FROM t;"));
    }

    [Fact]
    public void Writer_MeetingTheLockHeldPastItsBusyTimeout_GetsSqliteBusyAfterWaitingItOut()
    {
        var factory = new SqliteConnectionFactory(TimeSpan.FromMilliseconds(300));
        using var holder = HoldWriteLock(factory);
        using var writer = factory.OpenExisting(DatabasePath);
        var waited = Stopwatch.StartNew();

        var error = Assert.Throws<SqliteException>(() => DatabaseInspector.Execute(writer, "BEGIN IMMEDIATE"));

        Assert.Equal(SQLitePCL.raw.SQLITE_BUSY, error.SqliteErrorCode);
        // The handler gave up only after sleeping the whole timeout out (a lower bound on the wait, not a speed).
        Assert.True(waited.Elapsed >= TimeSpan.FromMilliseconds(300), $"gave up after {waited.Elapsed.TotalMilliseconds:F0} ms");
    }

    /// <summary>Creates the database and opens a connection that holds its write lock.</summary>
    private SqliteConnection HoldWriteLock(SqliteConnectionFactory factory)
    {
        using (var setup = factory.OpenOrCreate(DatabasePath))
        {
            DatabaseInspector.Execute(setup, "CREATE TABLE t (x INTEGER)");
        }

        var holder = factory.OpenExisting(DatabasePath);
        DatabaseInspector.Execute(holder, "BEGIN IMMEDIATE");
        return holder;
    }
}
