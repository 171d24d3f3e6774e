using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Bases and plans over a history merged into levels: a backup taken mid-run is a base inside a level file, the space
/// budget thins the oldest history first and never past the newest base, and planning a point reads the run only up to it.
/// </summary>
public sealed class HistoryLevelsPlanningTests : LevelledHistoryTest
{
    [Fact]
    public async Task BackupTakenMidRun_IsABaseInsideALevelFile_AfterItsSegmentsAreGone()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(2) };
        BackupManifest? middle = null;
        var generation = await ReplicateAsync(15 * 60, second =>
        {
            if (second == 7 * 60 + 20)
            {
                middle = H.Get<BackupService>().CreateAsync(H.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);
        H.Time.Advance(TimeSpan.FromMinutes(10));
        ReplicationRetention.Prune(H.Locate(), H.Time.GetUtcNow(), generation.Id, options, NullLogger.Instance);
        Assert.DoesNotContain(Store.Files(generation.Id), f => f.Level == 0 && f.Manifest!.LastCommitAt < TestHarness.Start.AddMinutes(14));

        var history = History.ReadAll(H.BackupDirectory, H.DatabasePath).Single();
        Assert.NotNull(Timeline.BaseIn(history, middle!));
        var audit = H.Get<HistoryAudit>().Run(H.Locate(), TestContext.Current.CancellationToken).Single();
        Assert.True(audit.Ok, audit.Problem);
        var target = TestHarness.Start.AddSeconds(9 * 60 + 10);
        var result = RestoreTo(target);

        var (k, exact) = ReadBack();
        Assert.True(exact);
        Assert.InRange(k, SeenBy(target.AddMinutes(-1)), SeenBy(target));
        Assert.Equal(middle!.Filename, result.Backup.Filename); // the newest base, placed inside a level file by its log point
    }

    [Fact]
    public async Task SpaceBudget_ThinsTheOldestHistoryFirst_KeepsEveryPointAfterTheNewestBase_AndSaysHowFarBackPointsGo()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(3) };
        var generation = await ReplicateAsync(15 * 60, second =>
        {
            if (second == 12 * 60)
            {
                H.Get<BackupService>().CreateAsync(H.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);
        var oldest = Timeline.Windows(H.BackupDirectory, H.DatabasePath).Single().From;

        // A volume with no room left: the history goes from its oldest point up to the newest base, and no further.
        var thinned = HistoryBudget.Thin(H.Locate(), 0, generation.Id, H.Time.GetUtcNow(), options, NullLogger.Instance);

        Assert.NotNull(thinned);
        Assert.True(thinned.From > oldest.AddMinutes(10), $"thinned only to {thinned.From:O}");
        Assert.True(thinned.From <= TestHarness.Start.AddMinutes(12), $"thinned past the newest base, to {thinned.From:O}");
        Assert.Contains("thinned", HistoryBudget.Sentence(thinned, H.Time.GetUtcNow(), options), StringComparison.Ordinal);
        Assert.Null(HistoryBudget.Thin(H.Locate(), long.MaxValue, generation.Id, H.Time.GetUtcNow(), options, NullLogger.Instance)); // room enough: nothing goes

        // Every point after the newest base still restores exactly.
        H.Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var target in new[] { TestHarness.Start.AddSeconds(12 * 60 + 30), TestHarness.Start.AddSeconds(14 * 60 + 45) })
        {
            RestoreTo(target);
            Assert.Equal((SeenBy(target), true), ReadBack());
        }
    }

    [Fact]
    public async Task PlanningAPoint_ReadsTheRunOnlyUpToIt_AndPlansAsReadingAllWould_AHoleAfterItStillNamedPastIt()
    {
        var generation = await ReplicateAsync(25 * 60, second =>
        {
            if (second == 8 * 60 + 20)
            {
                H.Get<BackupService>().CreateAsync(H.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);

        // A damaged record at about 20 minutes, where no level file starts: the run ends there.
        var levelStarts = Store.Levels(generation.Id).Select(l => l.Sequence).ToHashSet();
        var damaged = Store.Segments(generation.Id).First(s => s.Manifest!.LastCommitAt >= TestHarness.Start.AddMinutes(20) && !levelStarts.Contains(s.Sequence));
        File.WriteAllText(damaged.Path + ".json", "{ not a record");
        H.Time.Advance(TimeSpan.FromSeconds(5));

        var candidates = BackupCatalog.Scan(H.BackupDirectory, H.DatabasePath, H.Time.GetUtcNow()).RestoreCandidates;
        var all = History.ReadAll(H.BackupDirectory, H.DatabasePath);
        var random = new Random(31);
        var targets = Enumerable.Range(0, 12).Select(_ => TestHarness.Start.AddSeconds(random.Next(1, 25 * 60)))
            .Concat([TestHarness.Start.AddSeconds(-5), TestHarness.Start.AddSeconds(8 * 60 + 21), TestHarness.Start.AddMinutes(24)]).ToList();
        foreach (var target in targets)
        {
            var until = History.ReadUntil(H.BackupDirectory, H.DatabasePath, target);
            Assert.Equal(Plans(all, target), Plans(until, target));
            if (target < TestHarness.Start.AddMinutes(15))
            {
                Assert.True(until.Single().Partial, $"the run for {target:O} was read to its end");
                var run = until.Single().Run;
                Assert.True(run.Count < all.Single().Run.Count, $"{run.Count} of {all.Single().Run.Count} files of the run read for {target:O}");
                Assert.True(run[^1].Manifest!.LastCommitAt > target && (run.Count == 1 || run[^2].Manifest!.LastCommitAt <= target), $"the run for {target:O} was read past its first file after it");
            }
        }

        Assert.Contains(Path.GetFileName(damaged.Path), Plans(History.ReadUntil(H.BackupDirectory, H.DatabasePath, TestHarness.Start.AddMinutes(24)), TestHarness.Start.AddMinutes(24))[0], StringComparison.Ordinal);
        foreach (var target in new[] { TestHarness.Start.AddSeconds(9 * 60 + 40), TestHarness.Start.AddMinutes(24) })
        {
            RestoreTo(target);
            Assert.Equal((SeenBy(target < damaged.Manifest!.LastCommitAt ? target : damaged.Manifest.LastCommitAt.AddTicks(-1)), true), ReadBack());
        }

        List<string> Plans(IReadOnlyList<History> histories, DateTimeOffset target) =>
            [.. Timeline.PlansFor(candidates, b => b.Manifest!, b => b.TakenAt, histories, target).Select(p => string.Create(CultureInfo.InvariantCulture,
                $"{p.Backup.Name} {p.Generation?.Id} [{string.Join(",", p.Segments.Select(s => Path.GetFileName(s.Path)))}] {p.Skip} {p.BaseHash} {p.ReachedAt:O} {p.Problem} {p.StopsBefore} {p.UsesJumps}"))];
    }
}
