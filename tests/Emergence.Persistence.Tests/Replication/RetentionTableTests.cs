using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Replication;
using static Emergence.Persistence.Tests.Replication.HistoryTables;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// <see cref="ReplicationRetention.Select"/> by table: generations and segments in memory, the kept backups, the
/// generation being written, and what must go: while the restore window holds the whole history, segments before the
/// earliest point a kept backup is a base of, and generations no kept backup is a base of (never the current one); once
/// it has passed, generations older than it, and the current one's history before its newest base.
/// </summary>
public sealed class RetentionTableTests
{
    /// <summary>Shortly after the tables' history: the restore window (7 days) holds all of it.</summary>
    private static readonly DateTimeOffset Now = T0.AddHours(3);

    private static readonly Dictionary<string, BackupManifest> Backups = new()
    {
        ["g1@0"] = PinnedAt("g1@0", 1, 0, H(1, 0), 1),
        ["g1@2"] = PinnedAt("g1@2", 1, 20, H(1, 2), 2),
        ["g1@25"] = PinnedAt("g1@25", 1, 25, "00000000000000dd", 3),
        ["g1@4"] = PinnedAt("g1@4", 1, 40, H(1, 4), 4),
        ["g2@1"] = PinnedAt("g2@1", 2, 10, H(2, 1), 5),
        ["g2-content@3"] = Backup("g2-content@3", 6, At(2, 3), H(2, 3)),
        ["stranger"] = Backup("stranger", 7, At(2, 5), "00000000000000ee"),
    };

    public static TheoryData<string[], string, string[], string[]> Rows => new()
    {
        // kept backups, current generation -> doomed segments (generation/sequence), doomed generations
        { ["g1@0", "g2@1"], "g2", ["g2/1"], [] },
        { ["g1@2", "g2@1"], "g2", ["g1/1", "g1/2", "g2/1"], [] },
        // Inside segment 3: segment 3 stays (a replay reads it from the backup's point).
        { ["g1@25"], "g2", ["g1/1", "g1/2"], [] },
        // The earliest base counts: a later one keeps nothing more.
        { ["g1@4", "g1@2"], "g2", ["g1/1", "g1/2"], [] },
        // No kept backup is a base of g1: it goes whole; g2 keeps everything after its earliest base.
        { ["g2@1", "g2-content@3"], "g2", ["g2/1"], ["g1"] },
        // The current generation is never deleted whole, even with no base kept (its snapshot rotated out).
        { ["stranger"], "g2", [], ["g1"] },
        { [], "g1", [], ["g2"] },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Select_KeepsWhatAKeptBackupCanBeReplayedFrom(string[] kept, string current, string[] segments, string[] generations)
    {
        var all = new Dictionary<string, IReadOnlyList<HistoryFile>> { ["g1"] = Segments(1, 4), ["g2"] = Segments(2, 3) };

        var doomed = ReplicationRetention.Select([Generation(1), Generation(2)], id => all[id], [.. kept.Select(k => Backups[k])], current, Now, new ReplicationOptions());

        Assert.Equal(segments, doomed.Segments.Select(s => $"{s.Manifest!.Generation}/{s.Sequence}"));
        Assert.Equal(generations, doomed.Generations.Select(g => g.Id));
        Assert.Equal(segments.Length + generations.Sum(g => all[g].Count), doomed.SegmentCount);
    }

    [Fact]
    public void AfterPruning_TheRunStartsAtTheFirstSegmentKept_AndTheSameBackupsStillPlan()
    {
        var kept = Segments(1, 4, from: 3);
        var history = History.Read(Generation(1), kept, null, History.Check.Records);

        Assert.Null(history.Problem);
        Assert.Equal(2, history.Run.Count);
        Assert.Equal((0, (Emergence.Persistence.Database.WalPosition?)null), Timeline.BaseIn(history, Backups["g1@2"]));
        Assert.Empty(ReplicationRetention.Select([Generation(1)], _ => kept, [Backups["g1@2"]], "g1", Now, new ReplicationOptions()).Segments);
    }

    [Fact]
    public void OnceTheWindowHasPassed_AnOlderGenerationGoesWhole_AndTheCurrentOneKeepsFromItsNewestBaseBeforeTheWindow()
    {
        var all = new Dictionary<string, IReadOnlyList<HistoryFile>> { ["g1"] = Segments(1, 4), ["g2"] = Segments(2, 3) };
        var kept = new[] { Backups["g1@0"], Backups["g2@1"], Backups["g2-content@3"] };

        var doomed = ReplicationRetention.Select([Generation(1), Generation(2)], id => all[id], kept, "g2", T0.AddDays(8), new ReplicationOptions());

        Assert.Equal(["g1"], doomed.Generations.Select(g => g.Id));
        Assert.Equal(["g2/1", "g2/2", "g2/3"], doomed.Segments.Select(s => $"{s.Manifest!.Generation}/{s.Sequence}"));
    }

    public static TheoryData<string[], int, string[]> WindowBaseRows => new()
    {
        // verified backups, hours after T0 -> the backups rotation must keep
        // The window holds both generations whole: each one's earliest base, which every replay to its oldest point starts from.
        { ["g1@0", "g1@2", "g1@4", "g2@1", "g2-content@3", "stranger"], 3, ["g1@0", "g2@1"] },
        // Its snapshot gone, g1's earliest base is the pair at the end of segment 2 (one inside segment 3 starts there too).
        { ["g1@2", "g1@25", "g1@4", "g2-content@3"], 3, ["g1@2", "g1@25", "g2-content@3"] },
        // The window has passed g1 (retention deletes it whole); g2, the newest, starts from its newest base before the window.
        { ["g1@0", "g2@1", "g2-content@3"], 8 * 24, ["g2-content@3"] },
        { ["stranger"], 3, [] },
    };

    [Theory]
    [MemberData(nameof(WindowBaseRows))]
    public void WindowBases_AreTheBasesEachGenerationInTheWindowStartsFrom(string[] verified, int hours, string[] held)
    {
        var all = new Dictionary<string, IReadOnlyList<HistoryFile>> { ["g1"] = Segments(1, 4), ["g2"] = Segments(2, 3) };

        var bases = ReplicationRetention.WindowBases([Generation(1), Generation(2)], id => all[id], [.. verified.Select(k => Backups[k])], T0.AddHours(hours), new ReplicationOptions());

        Assert.Equal(held, bases.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithOnlyWhatWindowBasesHolds_NoGenerationGoesWhole_AndOnlyWhatNoVerifiedBackupReachesGoes()
    {
        var all = new Dictionary<string, IReadOnlyList<HistoryFile>> { ["g1"] = Segments(1, 4), ["g2"] = Segments(2, 3) };
        var verified = new[] { Backups["g1@0"], Backups["g1@4"], Backups["g2@1"] };
        var held = ReplicationRetention.WindowBases([Generation(1), Generation(2)], id => all[id], verified, Now, new ReplicationOptions());

        var doomed = ReplicationRetention.Select([Generation(1), Generation(2)], id => all[id], [.. verified.Where(b => held.Contains(b.Filename))], "g2", Now, new ReplicationOptions());

        Assert.Empty(doomed.Generations);
        Assert.Equal(["g2/1"], doomed.Segments.Select(s => $"{s.Manifest!.Generation}/{s.Sequence}")); // before g2's earliest base, its snapshot not among them
    }
}
