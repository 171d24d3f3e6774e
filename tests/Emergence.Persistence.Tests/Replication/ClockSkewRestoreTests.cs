using Emergence.Persistence.Backups;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A wall clock that was wrong when a generation or a backup was stamped costs no commit: a latest restore still
/// replays every one.
/// </summary>
public sealed class ClockSkewRestoreTests : ExactRestoreTest
{
    [Fact]
    public async Task GenerationStartedOnAClockAnHourAhead_ThenCorrected_LatestKeepsEveryCommit()
    {
        var clock = new SteppingClock(TestHarness.Start.AddHours(1));
        Commit(5);
        using (var session = await OpenAsync(clock, BackupsOn(clock)))
        {
            clock.Now = TestHarness.Start.AddSeconds(1); // the clock is corrected: an hour back
            Commit(10);
            var segment = session.Poll().Segment!;
            Assert.True(segment.LastCommitAt >= session.Generation.StartedAt, "a commit is never stamped before the one before it");
            Commit(10);
            session.Poll();
        }

        H.Time.Advance(TimeSpan.FromMinutes(2));
        RestoreTo(null);

        Assert.Equal((25, true, 0, "ok"), ReadBack());
    }

    [Fact]
    public async Task BackupTakenOnAClockFiveMinutesAhead_LatestStillReplaysEveryCommitAfterIt()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            var ahead = new SteppingClock(H.Time.GetUtcNow().AddMinutes(5));
            await BackupsOn(ahead).CreateAsync(H.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        H.Time.Advance(TimeSpan.FromMinutes(10));
        var result = RestoreTo(null);

        Assert.Equal((25, true, 0, "ok"), ReadBack());
        Assert.Equal(1, result.Replay!.Segments); // from the backup's own log point: only the segment after it
    }
}
