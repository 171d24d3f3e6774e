using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// The log changing under the replicator: checkpoints by another process or by the app's own connections, a steady
/// writer, the database replaced, the log restarted while nobody followed it. The timeline stays whole, or a new
/// generation starts.
/// </summary>
public sealed class LogUnderReplicationTests : ReplicationTest
{
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
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            var generation = session.Generation.Id;

            // The sqlite3 CLI has no busy timeout: under the replicator's reader a RESTART or TRUNCATE that would
            // lose uncopied frames gets SQLITE_BUSY; one that completes found every frame copied.
            Checkpoint(mode);
            Commit(20, 2);
            Checkpoint(mode);
            Commit(15, 3);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Commit(5, 4);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();

            Assert.Equal(generation, session.Generation.Id);
        }

        RestoreTo(null);

        Assert.Equal((70, true, "ok"), ReadBack());
    }

    [Fact]
    public async Task TheAppsOwnCheckpoints_WithATinyAutocheckpoint_KeepTheTimelineWhole()
    {
        Execute(Writer, "PRAGMA wal_autocheckpoint = 2");
        Commit(10, 0);
        using (var session = await OpenAsync())
        {
            for (var batch = 1; batch <= 5; batch++)
            {
                Commit(40, batch);
                H.Time.Advance(TimeSpan.FromSeconds(1));
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
                H.Time.Advance(TimeSpan.FromSeconds(1));
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
        Writer.Close();
        var other = H.DatabasePath + ".other";
        File.Copy(H.DatabasePath, other);
        File.Move(other, H.DatabasePath, overwrite: true);

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

        H.Time.Advance(TimeSpan.FromSeconds(1));
        RestoreTo(null);
        Assert.Equal((30, true, "ok"), ReadBack());
    }
}
