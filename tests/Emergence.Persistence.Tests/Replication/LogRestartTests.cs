using System.Buffers.Binary;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Logs restarted by connections that come and go, as a pooled app's are. SQLite counts a log's checkpoint sequence per
/// connection, so a new connection's restart writes the same sequence as the log before it (or a lower one), and a
/// connection that never restarted a log writes random salts: the replicator must follow each restart by its salts and
/// its held reader, not by arithmetic on the header.
/// </summary>
public sealed class LogRestartTests : IDisposable
{
    private readonly TestHarness _h = new();
    private int _next = 1;

    public LogRestartTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        Write("PRAGMA journal_mode = WAL; CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
    }

    public void Dispose() => _h.Dispose();

    /// <summary>Runs SQL in a new sqlite3 process: a new connection, read-write, closed when it is done.</summary>
    private string Write(string sql)
    {
        var (exit, output, error) = Shell.Run("sqlite3", "-batch", _h.DatabasePath, sql);
        Assert.True(exit == 0, $"sqlite3 exited {exit}: {error}");
        return output.Trim();
    }

    /// <summary>Commits <paramref name="count"/> rows, one transaction each, through a new sqlite3 process (a new connection).</summary>
    private void CommitFromANewConnection(int count)
    {
        var inserts = string.Concat(Enumerable.Range(0, count).Select(_ => $"INSERT INTO rows (n, pad) VALUES ({_next++}, randomblob(300));"));
        Write(inserts);
    }

    /// <summary>The checkpoint sequence and first salt of the log's header as the file holds it.</summary>
    private (uint Sequence, uint Salt1) LogHeader()
    {
        var header = File.ReadAllBytes(_h.DatabasePath + "-wal").AsSpan(0, WalFormat.HeaderSize);
        return (BinaryPrimitives.ReadUInt32BigEndian(header[12..]), BinaryPrimitives.ReadUInt32BigEndian(header[16..]));
    }

    /// <summary>A connection of this process's own, kept open (as a pooled app's are), that never checkpoints by itself.</summary>
    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={_h.DatabasePath};Pooling=False");
        connection.Open();
        RowsDatabase.Execute(connection, "PRAGMA wal_autocheckpoint = 0;");
        return connection;
    }

    private void CommitFrom(SqliteConnection connection, int count) =>
        RowsDatabase.Execute(connection, string.Concat(Enumerable.Range(0, count).Select(_ => $"INSERT INTO rows (n, pad) VALUES ({_next++}, randomblob(300));")));

    private Task<ReplicationSession> OpenAsync() =>
        ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("PASSIVE")]
    [InlineData("RESTART")]
    [InlineData("TRUNCATE")]
    public async Task LogsRestartedByNewConnections_AreFollowed_WithinOneGeneration(string mode)
    {
        CommitFromANewConnection(5);
        var logs = new List<(uint Sequence, uint Salt1)>();
        string generation;
        using (var session = await OpenAsync())
        {
            generation = session.Generation.Id;
            for (var round = 0; round < 5; round++)
            {
                CommitFromANewConnection(10);
                logs.Add(LogHeader());
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();

                // Another process checkpoints every frame (the session's reader reads them all), and the next poll's
                // reader then reads none of the log: the next new connection to write restarts it.
                Write($"PRAGMA wal_checkpoint({mode});");
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
                Assert.Equal(generation, session.Generation.Id);
            }
        }

        // The case this is about happened: a restarted log carried a checkpoint sequence no higher than the one before it.
        Assert.Equal(5, logs.Select(l => l.Salt1).Distinct().Count());
        Assert.Contains(logs.Zip(logs.Skip(1)), pair => pair.Second.Sequence <= pair.First.Sequence);

        Assert.Single(new ReplicationStore(_h.Locate().BackupDirectory).Generations(_h.DatabasePath));
        var restored = _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(5, restored.Replay!.Segments);
        Assert.Equal("55|55|ok", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) || '|' || max(n) || '|' || (SELECT integrity_check FROM pragma_integrity_check) FROM rows;"));
    }

    [Fact]
    public async Task ALogRestartedByATransactionThatRollsBack_ThenWrittenByAnotherConnection_IsFollowedInTheSameGeneration()
    {
        using var a = Connect();
        using var b = Connect();
        CommitFrom(a, 5);
        using var session = await OpenAsync();
        var generation = session.Generation.Id;
        void Poll()
        {
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        Poll();

        // Each connection restarts a log once: SQLite's count of restarts is per connection, now 1 for both.
        foreach (var writer in new[] { b, a })
        {
            RowsDatabase.Execute(a, "PRAGMA wal_checkpoint(PASSIVE);");
            Poll(); // the next poll's reader reads none of the log: the next writer restarts it
            CommitFrom(writer, 3);
            Poll();
        }

        // A restarts the log again inside a transaction that spills its cache into it, then rolls back: the log's header
        // is written (A's count, 2) and no frame of it is ever committed.
        RowsDatabase.Execute(a, "PRAGMA wal_checkpoint(PASSIVE);");
        Poll();
        RowsDatabase.Execute(a, "PRAGMA cache_size = 5;");
        RowsDatabase.Execute(a, "BEGIN; INSERT INTO rows (n, pad) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 200) SELECT 100000 + x, randomblob(4000) FROM s;");
        var restarted = LogHeader();
        RowsDatabase.Execute(a, "ROLLBACK;");
        Assert.Equal(2u, restarted.Sequence);
        Poll();

        // B writes the log's first frame under a header of its own: the same salts, its own count.
        CommitFrom(b, 2);
        var written = LogHeader();
        Assert.Equal((restarted.Salt1, 1u), (written.Salt1, written.Sequence));
        Poll();

        Assert.Equal(generation, session.Generation.Id);
        session.Dispose();
        a.Close();
        b.Close();
        var restored = _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Null(restored.Replay?.Stopped);
        Assert.Equal("13|13|ok", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) || '|' || max(n) || '|' || (SELECT integrity_check FROM pragma_integrity_check) FROM rows;"));
    }
}
