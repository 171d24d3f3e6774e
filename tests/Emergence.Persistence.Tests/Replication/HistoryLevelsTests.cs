using Emergence.Persistence.Configuration;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// History levels: closed segments merged into 10-second, minute, 10-minute, hour and day files. Every restore still gives
/// back a state the database had at or before the time asked, reaches it through few files, survives a merge killed
/// between its steps and a damaged level file, and after retention keeps the spacing the levels promise.
/// </summary>
public sealed class HistoryLevelsTests : LevelledHistoryTest
{
    [Fact]
    public async Task LevelFiles_EveryPointRestoresExactly_ThroughFewFiles()
    {
        var generation = await ReplicateAsync(25 * 60);
        Assert.True(Compact(generation) > 0);
        var levels = Store.Levels(generation.Id);
        foreach (var level in new[] { 1, 2, 3 })
        {
            Assert.Contains(levels, f => f.Level == level);
        }

        Assert.Empty(HistoryCompactor.Compact(Store, generation, closed: false, NullLogger.Instance, TestContext.Current.CancellationToken)); // nothing left to merge
        H.Time.Advance(TimeSpan.FromSeconds(5));
        var random = new Random(23);
        var targets = Enumerable.Range(0, 16).Select(_ => TestHarness.Start.AddSeconds(random.Next(1, 25 * 60))).Append(TestHarness.Start.AddSeconds(25 * 60)).ToList();
        foreach (var target in targets)
        {
            var result = RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact, $"restore to {target:O} gave a state with a hole");
            Assert.Equal(SeenBy(target), k);
            // From the snapshot, 25 minutes: 10-minute, minute and 10-second files, then segments: never one file per second.
            Assert.InRange(result.Replay!.Segments, 0, 40);
        }
    }

    [Fact]
    public async Task CompactionKilledBetweenItsSteps_LeavesNoLevelFileThatFailsItsChecksum_AndTheNextRunMergesThePeriodAgain()
    {
        var generation = await ReplicateAsync(3 * 60);
        Assert.True(Compact(generation) > 0);
        var first = Store.Levels(generation.Id).Where(l => l.Level == 1).ToList();
        var (renamed, written, deleted) = (first[0], first[1], first[2]);

        // What a kill leaves at each step of writing a level file (data to a temp file, fsync, rename, then its record
        // written atomically) and of deleting one: the temp file half written; the file renamed without its record;
        // the record left after its file was deleted.
        File.WriteAllBytes(written.Path + ".tmp", new byte[100]);
        File.Delete(written.Path);
        File.Delete(written.Path + ".json");
        File.Delete(renamed.Path + ".json");
        File.Delete(deleted.Path);

        Assert.Equal(3, Compact(generation));

        var directory = Store.DirectoryOf(generation.Id);
        foreach (var level in Store.Levels(generation.Id))
        {
            Assert.NotNull(level.Manifest);
            Assert.Null(LevelFile.Check(level.Path, level.Manifest!, TestContext.Current.CancellationToken));
        }

        foreach (var path in new[] { renamed.Path, written.Path, deleted.Path })
        {
            Assert.True(File.Exists(path) && File.Exists(path + ".json"), $"{Path.GetFileName(path)} was not merged again");
        }

        Assert.DoesNotContain(Directory.GetFiles(directory, "L*.json"), record => !File.Exists(record[..^".json".Length]));
        H.Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var target in Enumerable.Range(0, 6).Select(i => TestHarness.Start.AddSeconds(5 + (i * 35))))
        {
            RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact, $"restore to {target:O} gave a state with a hole");
            Assert.Equal(SeenBy(target), k);
        }
    }

    [Fact]
    public async Task AfterRetention_MinutePointsStay_RestoresAreExactWithinAMinute_AndTheFinePointsAreGone()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(5) };
        var generation = await ReplicateAsync(20 * 60);
        Compact(generation);
        var before = Store.Files(generation.Id).Count;

        H.Time.Advance(TimeSpan.FromMinutes(30));
        ReplicationRetention.Prune(H.Locate(), H.Time.GetUtcNow(), generation.Id, options, NullLogger.Instance);

        var after = Store.Files(generation.Id);
        Assert.True(after.Count < before / 5, $"{after.Count} of {before} history files kept");
        Assert.DoesNotContain(after, f => f.Level == 1 && f.Manifest!.LastCommitAt < TestHarness.Start.AddMinutes(19)); // 10-second points are past their time
        var random = new Random(5);
        foreach (var target in Enumerable.Range(0, 10).Select(_ => TestHarness.Start.AddSeconds(random.Next(60, 19 * 60))))
        {
            RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact);
            Assert.InRange(k, SeenBy(target.AddMinutes(-1)), SeenBy(target)); // the newest minute point at or before the time: never a commit after it
        }
    }

    [Fact]
    public async Task DamagedLevelFile_TheRestoreGoesAlongTheSegments_AndStillReachesThePoint()
    {
        var generation = await ReplicateAsync(12 * 60);
        Compact(generation);
        var tenMinutes = Store.Levels(generation.Id).Single(f => f.Level == 3);
        var bytes = File.ReadAllBytes(tenMinutes.Path);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(tenMinutes.Path, bytes);

        H.Time.Advance(TimeSpan.FromSeconds(5));
        var target = TestHarness.Start.AddSeconds(11 * 60 + 30);
        var result = RestoreTo(target);

        Assert.Equal((SeenBy(target), true), ReadBack());
        Assert.Null(result.Replay!.Stopped);

        // The offline audit proves every file, the level files beside the run too, and names the damaged one.
        var audit = H.Get<HistoryAudit>().Run(H.Locate(), TestContext.Current.CancellationToken)[0];
        Assert.Contains(Path.GetFileName(tenMinutes.Path), audit.Problem, StringComparison.Ordinal);
    }
}
