using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The replicator beside a writer that commits back to back: the writer never sees <c>SQLITE_BUSY</c>, every
/// commit reaches the history, and the log is checkpointed between polls once it passes the threshold.
/// </summary>
public sealed class KeepUpTests
{
    private const long Threshold = 256L << 10;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AWriterCommittingBackToBack_BesideARunningReplicator_SeesNoError_EveryCommitIsReplayed_AndTheLogReturnsUnderTheThreshold()
    {
        using var h = new TestHarness(new Dictionary<string, string?> { ["Persistence:Replication:CheckpointBytes"] = Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture) }, realTime: true);
        Directory.CreateDirectory(Path.GetDirectoryName(h.DatabasePath)!);
        var connections = h.Get<SqliteConnectionFactory>();
        using var writer = connections.OpenOrCreate(h.DatabasePath);
        Execute(writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
        var location = h.Locate();
        var activity = h.Get<ReplicationActivity>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var replicating = Task.Run(() => h.Get<Replicator>().RunAsync(location, stop.Token), CancellationToken.None);
        var committed = 0;
        try
        {
            await Eventually(() => activity.StateFor(location.BackupDirectory) is { Generation: not null }, "the replicator's first poll");

            // Many times the threshold of log, so the replicator checkpoints under the writer again and again.
            (committed, var errors) = CommitBackToBack(writer, 6000);

            Assert.Empty(errors);
            var stoppedAt = DateTimeOffset.UtcNow;
            await Eventually(() => activity.StateFor(location.BackupDirectory) is { CaughtUpAt: { } at } && at > stoppedAt, "the replicator to catch up with the last commit");

            // Once checkpointed, the log restarts at the next commit: what is in use falls back under the threshold.
            await Eventually(
                () =>
                {
                    Execute(writer, $"INSERT INTO rows (n, pad) VALUES ({++committed}, randomblob(200))");
                    return LogBytesInUse(h.DatabasePath) < Threshold;
                },
                "the log to be checkpointed back under the threshold");
            var lastAt = DateTimeOffset.UtcNow;
            await Eventually(() => activity.StateFor(location.BackupDirectory) is { CaughtUpAt: { } at } && at > lastAt, "the replicator to catch up again");
        }
        finally
        {
            await stop.CancelAsync();
            await replicating.WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        writer.Close();
        var expected = Sqlite3.Query(h.DatabasePath, Digest);
        var restored = h.WithVolumeLock((l, held) => h.Get<RestoreService>().RestoreToTime(l, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Null(restored.Replay?.Stopped);
        Assert.Equal(expected, Sqlite3.Query(h.DatabasePath, Digest));
        Assert.StartsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{committed}|{committed}|"), expected, StringComparison.Ordinal);
    }

    /// <summary>
    /// Commits rows 1 to <paramref name="count"/> back to back, as the app's writers commit: one row a transaction, through
    /// the app's own connection settings. Returns how many committed and every error seen (it stops after more than ten).
    /// </summary>
    private static (int Committed, List<string> Errors) CommitBackToBack(SqliteConnection writer, int count)
    {
        var committed = 0;
        var errors = new List<string>();
        while (committed < count)
        {
            try
            {
                Execute(writer, $"INSERT INTO rows (n, pad) VALUES ({committed + 1}, randomblob(200))");
                committed++;
            }
            catch (SqliteException ex)
            {
                errors.Add($"{ex.SqliteErrorCode}/{ex.SqliteExtendedErrorCode}: {ex.Message}");
                if (errors.Count > 10)
                {
                    break;
                }
            }
        }

        return (committed, errors);
    }

    [Fact]
    public async Task BetweenPolls_AStepCheckpointsPastTheThreshold_AndTheRestartedLogEndsTheOpenSegment_WithNothingLost()
    {
        using var h = new TestHarness();
        Directory.CreateDirectory(Path.GetDirectoryName(h.DatabasePath)!);
        using var writer = h.Get<SqliteConnectionFactory>().OpenOrCreate(h.DatabasePath);
        Execute(writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
        var next = 1;
        void Commit(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Execute(writer, $"INSERT INTO rows (n, pad) VALUES ({next++}, randomblob(2000))");
            }
        }

        var store = new ReplicationStore(h.BackupDirectory);
        using (var session = await ReplicationSession.OpenAsync(h.Locate(), h.Get<SqliteConnectionFactory>(), h.Get<BackupService>(), h.Time, NullLogger.Instance, Threshold, null, TestContext.Current.CancellationToken))
        {
            // A step under the threshold copies into the open segment; nothing is durable yet.
            Commit(10);
            h.Time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Null(session.Tail());
            Assert.Empty(store.Segments(session.Generation.Id));

            // Past the threshold, a step checkpoints without waiting for the poll, so the next commit restarts the log.
            Commit(200);
            h.Time.Advance(TimeSpan.FromMilliseconds(100));
            var step = session.Tail();
            Assert.NotNull(step);
            Assert.True(step.Checkpointed);
            Commit(5);
            Assert.True(LogBytesInUse(h.DatabasePath) < Threshold, $"{LogBytesInUse(h.DatabasePath)} bytes of log in use after the restart");

            // The next step finds the restarted log: the segment of the previous log is made durable, the new one is open.
            h.Time.Advance(TimeSpan.FromMilliseconds(100));
            var restarted = session.Tail();
            Assert.NotNull(restarted);
            var ended = Assert.Single(restarted.Segments);
            Assert.Equal(210, ended.Commits);
            Assert.Single(store.Segments(session.Generation.Id));

            // The poll makes the rest durable.
            Commit(3);
            h.Time.Advance(TimeSpan.FromSeconds(1));
            var poll = session.Poll();
            Assert.Equal(8, Assert.Single(poll.Segments).Commits);
            Assert.Equal(poll.Segments[0].StartHash, ended.EndHash);
        }

        writer.Close();
        var expected = Sqlite3.Query(h.DatabasePath, Digest);
        var restored = h.WithVolumeLock((l, held) => h.Get<RestoreService>().RestoreToTime(l, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Null(restored.Replay?.Stopped);
        Assert.Equal(expected, Sqlite3.Query(h.DatabasePath, Digest));
        Assert.StartsWith("218|", expected, StringComparison.Ordinal);
    }

    /// <summary>The rows' count, largest and sum of keys, and a SHA-3 of every row in order, as the sqlite3 CLI reads them.</summary>
    private const string Digest = "SELECT count(*), max(n), sum(n), hex(sha3_query('SELECT n, pad FROM rows ORDER BY n')) FROM rows;";

    /// <summary>The bytes of the log in use: its header and every committed frame of the current log, read from the file.</summary>
    private static long LogBytesInUse(string databasePath) => PublishedEnds.With(databasePath, published =>
        WalTail.EndOf(databasePath + "-wal", published) is { } end ? WalFormat.HeaderSize + (end.Frames * (WalFormat.FrameHeaderSize + (long)end.PageSize)) : 0);

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds or <see cref="Bound"/> passes.</summary>
    private static Task Eventually(Func<bool> condition, string what) => Polling.Until(condition, what, Bound);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
