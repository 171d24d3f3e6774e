using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Every commit copied into segments and restored from them: the latest, to many points, after startup finds the
/// database corrupt, and up to a damaged segment.
/// </summary>
public sealed class ReplicationTests : ReplicationTest
{
    [Fact]
    public async Task Poll_CopiesEveryCommit_AndALatestRestoreHasThemAll()
    {
        Commit(20, 0);
        using (var session = await OpenAsync())
        {
            Commit(30, 1);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            var polled = session.Poll();
            Commit(25, 2);
            H.Time.Advance(TimeSpan.FromSeconds(1));
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
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        Writer.Close();
        Sqlite3Checkpoint();
        using (var file = new FileStream(H.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            file.Write(new byte[100]); // the header: not a database any more
        }

        var outcome = await H.WithVolumeLock((location, held) => H.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken));

        Assert.NotNull(outcome.Restore);
        Assert.Equal(1, outcome.Restore.Replay!.Segments);
        Assert.Equal((50, true, "ok"), ReadBack());
    }

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
                H.Time.Advance(TimeSpan.FromSeconds(1));
                seen.Add(session.Poll().Segment!.LastCommitAt);
            }
        }

        // The restores happen after every point they restore to (each one ends the generation from its own time on).
        H.Time.Advance(TimeSpan.FromSeconds(5));

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
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Commit(10, 2);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            second = session.Poll().Segment!;
            Commit(10, 3);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        var path = Path.Combine(new ReplicationStore(H.BackupDirectory).DirectoryOf(second.Generation), second.Filename);
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
