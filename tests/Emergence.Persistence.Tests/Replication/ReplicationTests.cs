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
public sealed class ReplicationTests : IDisposable
{
    private readonly TestHarness _h = new();
    private readonly SqliteConnection _writer;

    public ReplicationTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute(_writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, batch INTEGER NOT NULL, pad BLOB NOT NULL)");
    }

    public void Dispose()
    {
        _writer.Dispose();
        _h.Dispose();
    }

    private int _next = 1;

    /// <summary>Commits <paramref name="count"/> rows, one transaction each, all in batch <paramref name="batch"/>.</summary>
    private void Commit(int count, int batch, SqliteConnection? connection = null)
    {
        for (var i = 0; i < count; i++)
        {
            Execute(connection ?? _writer, $"INSERT INTO rows (n, batch, pad) VALUES ({_next++}, {batch}, randomblob(300))");
        }
    }

    private Task<ReplicationSession> OpenAsync(long checkpointBytes = 64L << 20, string? after = null) =>
        ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, checkpointBytes, after, TestContext.Current.CancellationToken);

    private RestoreResult RestoreTo(DateTimeOffset? target) =>
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>Another process checkpoints: the sqlite3 CLI, read-write. Its result row: busy, log frames, checkpointed frames.</summary>
    private string Checkpoint(string mode)
    {
        var (exit, output, error) = Shell.Run("sqlite3", "-batch", _h.DatabasePath, $"PRAGMA wal_checkpoint({mode});");
        Assert.True(exit == 0, $"sqlite3 exited {exit}: {error}");
        return output.Trim();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Rows 1..N with no gap and nothing else, as read by the sqlite3 CLI, and the file's integrity.</summary>
    private (int Count, bool Prefix, string Integrity) ReadBack()
    {
        _writer.Close();
        var count = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM rows;"), System.Globalization.CultureInfo.InvariantCulture);
        var max = Sqlite3.Query(_h.DatabasePath, "SELECT coalesce(max(n), 0) FROM rows;");
        return (count, max == count.ToString(System.Globalization.CultureInfo.InvariantCulture), Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
    }

    [Fact]
    public async Task Poll_CopiesEveryCommit_AndALatestRestoreHasThemAll()
    {
        Commit(20, 0);
        using (var session = await OpenAsync())
        {
            Commit(30, 1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            var polled = session.Poll();
            Commit(25, 2);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();

            Assert.NotNull(polled.Segment);
            Assert.Equal(30, polled.Segment.Commits);
        }

        var restored = RestoreTo(null);

        Assert.Equal(2, restored.Replay!.Segments);
        Assert.Equal((75, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task StartupRecovery_OfACorruptDatabase_RestoresTheNewestReplicatedCommit()
    {
        Commit(10, 0);
        using (var session = await OpenAsync())
        {
            Commit(40, 1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        _writer.Close();
        Sqlite3Checkpoint();
        using (var file = new FileStream(_h.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            file.Write(new byte[100]); // the header: not a database any more
        }

        var outcome = await _h.WithVolumeLock((location, held) => _h.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken));

        Assert.NotNull(outcome.Restore);
        Assert.Equal(1, outcome.Restore.Replay!.Segments);
        Assert.Equal((50, true, "ok"), ReadBack());
    }

    private void Sqlite3Checkpoint() => Assert.Equal(0, Shell.Run("sqlite3", "-batch", _h.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);

    [Fact]
    public async Task RestoreTo_ManyPoints_GivesExactlyTheBatchesSeenByThen()
    {
        Commit(5, 0);
        var seen = new List<DateTimeOffset>();
        using (var session = await OpenAsync())
        {
            for (var batch = 1; batch <= 6; batch++)
            {
                Commit(10, batch);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                seen.Add(session.Poll().Segment!.LastCommitAt);
            }
        }

        // The restores happen after every point they restore to (each one ends the generation from its own time on).
        _h.Time.Advance(TimeSpan.FromSeconds(5));

        // Between polls k and k+1, and exactly at poll k: batches 0..k, nothing after.
        for (var k = 0; k < seen.Count; k++)
        {
            foreach (var target in new[] { seen[k], seen[k] + TimeSpan.FromMilliseconds(500) })
            {
                RestoreTo(target);
                var (count, prefix, integrity) = ReadBack();
                Assert.Equal((5 + (10 * (k + 1)), true, "ok"), (count, prefix, integrity));
            }
        }
    }

    [Theory]
    [InlineData("PASSIVE")]
    [InlineData("RESTART")]
    [InlineData("TRUNCATE")]
    public async Task CheckpointByAnotherProcess_KeepsTheTimelineWhole(string mode)
    {
        Commit(10, 0);
        using (var session = await OpenAsync())
        {
            Commit(20, 1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            var generation = session.Generation.Id;

            // The sqlite3 CLI has no busy timeout: under the replicator's reader a RESTART or TRUNCATE that would
            // lose uncopied frames gets SQLITE_BUSY; one that completes found every frame copied.
            Checkpoint(mode);
            Commit(20, 2);
            Checkpoint(mode);
            Commit(15, 3);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Commit(5, 4);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();

            Assert.Equal(generation, session.Generation.Id);
        }

        RestoreTo(null);

        Assert.Equal((70, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task TheAppsOwnCheckpoints_WithATinyAutocheckpoint_KeepTheTimelineWhole()
    {
        Execute(_writer, "PRAGMA wal_autocheckpoint = 2");
        Commit(10, 0);
        using (var session = await OpenAsync())
        {
            for (var batch = 1; batch <= 5; batch++)
            {
                Commit(40, batch);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
            }
        }

        RestoreTo(null);

        Assert.Equal((210, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task SteadyWriter_TheLogStaysBounded_AndNothingIsLost()
    {
        const long CheckpointBytes = 256L << 10;
        Commit(10, 0);
        long highWater;
        var checkpoints = 0;
        using (var session = await OpenAsync(CheckpointBytes))
        {
            for (var batch = 1; batch <= 60; batch++)
            {
                Commit(50, batch); // about 50 frames per batch: 200 KiB of log with 4 KiB pages
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                checkpoints += session.Poll().Checkpointed ? 1 : 0;
            }

            highWater = session.LogHighWaterBytes;
        }

        RestoreTo(null);

        Assert.True(checkpoints > 0, "the replicator never checkpointed");
        Assert.True(highWater < 4 * CheckpointBytes, $"the log grew to {highWater} bytes");
        Assert.Equal((3010, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task DatabaseReplacedUnderTheReplicator_EndsTheGeneration()
    {
        Commit(10, 0);
        using var session = await OpenAsync();
        _writer.Close();
        var other = _h.DatabasePath + ".other";
        File.Copy(_h.DatabasePath, other);
        File.Move(other, _h.DatabasePath, overwrite: true);

        var broken = Assert.Throws<ReplicationBrokenException>(session.Poll);

        Assert.Contains("replaced", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumedAfterTheLogRestartedUnfollowed_StartsANewGeneration()
    {
        Commit(10, 0);
        string first;
        using (var session = await OpenAsync())
        {
            Commit(10, 1);
            session.Poll();
            first = session.Generation.Id;
        }

        // No replicator: commits are made, the log is checkpointed and restarted, and the new log's frames overwrite the old ones.
        Checkpoint("TRUNCATE");
        Commit(10, 2);
        using (var resumed = await OpenAsync())
        {
            // The snapshot's content is not the history's newest point: what was committed meanwhile is in no segment.
            Assert.NotEqual(first, resumed.Generation.Id);
            Assert.Contains("commits were made while no replicator ran", resumed.Generation.After, StringComparison.Ordinal);
            resumed.Poll();
        }

        _h.Time.Advance(TimeSpan.FromSeconds(1));
        RestoreTo(null);
        Assert.Equal((30, true, "ok"), ReadBack());
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("truncate")]
    [InlineData("delete")]
    public async Task DamagedSegment_ReplayStopsAtTheLastWholeCommitBeforeIt(string damage)
    {
        Commit(5, 0);
        SegmentManifest second;
        using (var session = await OpenAsync())
        {
            Commit(10, 1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Commit(10, 2);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            second = session.Poll().Segment!;
            Commit(10, 3);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        var path = Path.Combine(new ReplicationStore(_h.BackupDirectory).DirectoryOf(second.Generation), second.Filename);
        switch (damage)
        {
            case "corrupt":
                using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    file.Position = file.Length - 100; // inside the last frame's page: the transactions before it are whole
                    file.WriteByte(0x5A);
                }

                break;
            case "truncate":
                using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
                {
                    file.SetLength(file.Length - 10);
                }

                break;
            default:
                File.Delete(path);
                break;
        }

        var result = RestoreTo(null);

        var (count, prefix, integrity) = ReadBack();
        Assert.True(prefix);
        Assert.Equal("ok", integrity);
        Assert.Contains(second.Filename, result.Replay!.Stopped, StringComparison.Ordinal);
        // Batch 3 is never applied; of batch 2, only whole transactions before the damage (none when it is gone).
        Assert.InRange(count, 15, damage == "delete" ? 15 : 24);
    }
}
