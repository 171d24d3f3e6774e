using Emergence.Persistence.Backups;
using Emergence.Persistence.Replication;
using static Emergence.Persistence.Tests.Replication.HistoryTables;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// <see cref="Timeline.PlansFor"/> by table: a history of one or two generations and a few backups in memory, a target,
/// and the plans expected, best first, each written <c>backup:first..last@point</c> (<c>backup:-@point</c> when nothing
/// is replayed, <c>+skip</c> when the backup holds part of the first segment).
/// </summary>
public sealed class TimelineTableTests
{
    private static string Describe(Timeline.Plan<BackupManifest> plan)
    {
        var replayed = plan.Segments.Count == 0 ? "-" : $"{plan.Segments[0].Sequence}..{plan.Segments[^1].Sequence}";
        var point = plan.Generation is null ? "alone" : (plan.ReachedAt - At(int.Parse(plan.Generation.Id[1..], System.Globalization.CultureInfo.InvariantCulture), 0)).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{plan.Backup.Filename}:{replayed}@{point}{(plan.Skip is null ? "" : "+skip")}";
    }

    private static IReadOnlyList<History> OneGeneration(int segments, ReplicationStore.Ended? ended = null) =>
        [History.Read(Generation(1), Segments(1, segments), ended, History.Check.Records)];

    private static string[] Plans(IReadOnlyList<BackupManifest> backups, IReadOnlyList<History> histories, DateTimeOffset? target) =>
        [.. Timeline.PlansFor(backups, b => b, b => b.Timestamp, histories, target).Select(Describe)];

    public static TheoryData<string, double?, string[]> OneGenerationRows => new()
    {
        // A base at the end of segment 2 of 4: the newest point replays 3..4, then the base's own state is the last resort.
        { "end2", null, ["end2:3..4@4", "end2:-@2"] },
        // A target between segments: the newest point seen by then.
        { "end2", 3.5, ["end2:3..3@3", "end2:-@2"] },
        // A target at the base's own point: nothing to replay, no duplicate last resort.
        { "end2", 2.5, ["end2:-@2"] },
        // A target before the base's point: the base holds commits after it, so it is no plan for it.
        { "end2", 1.5, [] },
        // A base inside segment 3: segment 3 is read from its point on (the frames before it checked, not applied);
        // its own state, a point inside a segment, is placed at its time.
        { "mid3", null, ["mid3:3..4@4+skip", "mid3:-@2+skip"] },
        // A backup known only by its content, equal to the history's after segment 1.
        { "content1", null, ["content1:2..4@4", "content1:-@1"] },
        // The generation's snapshot itself.
        { "start", 2, ["start:1..2@2", "start:-@0"] },
    };

    [Theory]
    [MemberData(nameof(OneGenerationRows))]
    public void OneGeneration_PlansByLogPoint(string backup, double? targetSeconds, string[] expected)
    {
        BackupManifest[] backups =
        [
            PinnedAt("end2", 1, 20, H(1, 2), sequence: 3),
            PinnedAt("mid3", 1, 25, "00000000000000aa", sequence: 4),
            Backup("content1", 2, At(1, 1), H(1, 1)),
            PinnedAt("start", 1, 0, H(1, 0), sequence: 1),
        ];
        var target = targetSeconds is { } s ? At(1, 0).AddSeconds(s) : (DateTimeOffset?)null;

        Assert.Equal(expected, Plans([.. backups.Where(b => b.Filename == backup)], OneGeneration(4), target));
    }

    [Fact]
    public void BasesOfOneGeneration_NewestBaseFirst_ThenEachBasesOwnState()
    {
        BackupManifest[] backups = [PinnedAt("end1", 1, 10, H(1, 1), 2), PinnedAt("end3", 1, 30, H(1, 3), 3)];

        Assert.Equal(["end3:4..4@4", "end1:2..4@4", "end3:-@3", "end1:-@1"], Plans(backups, OneGeneration(4), null));
    }

    [Fact]
    public void ABackupOfNoGeneration_IsAPlanOfItsOwn_ByItsTime()
    {
        var stranger = Backup("stranger", 1, At(1, 0).AddMinutes(-5), "00000000000000bb");

        Assert.Equal(["stranger:-@alone"], Plans([stranger], OneGeneration(2), At(1, 0).AddMinutes(-1)));
        Assert.Empty(Plans([stranger], OneGeneration(2), At(1, 0).AddMinutes(-10)));
    }

    [Fact]
    public void AGenerationEndedByARestore_HoldsNoPointFromTheRestoreOn()
    {
        var ended = new ReplicationStore.Ended(At(1, 3), "restored");
        BackupManifest[] backups = [PinnedAt("end1", 1, 10, H(1, 1), 2)];

        Assert.Empty(Plans(backups, OneGeneration(4, ended), null));
        Assert.Equal(["end1:2..2@2", "end1:-@1"], Plans(backups, OneGeneration(4, ended), At(1, 2)));
    }

    [Fact]
    public void ADamagedSegment_EndsTheRun_AndThePlanSaysWhereItStops()
    {
        var segments = Segments(1, 4).ToList();
        segments[2] = segments[2] with { Manifest = segments[2].Manifest! with { StartHash = "00000000000000cc" } };
        var history = History.Read(Generation(1), segments, null, History.Check.Records);

        var plan = Timeline.PlansFor([PinnedAt("end1", 1, 10, H(1, 1), 2)], b => b, b => b.Timestamp, [history], null)[0];

        Assert.Equal("end1:2..2@2", Describe(plan));
        Assert.Equal(ReplicationStore.SegmentName(3), plan.StopsBefore);
        Assert.Contains("starts from content", plan.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Generations_InTheOrderTheyWereStarted_NotByTheirTimes()
    {
        // The second generation was started on a clock an hour behind the first's: it is still the newer one.
        var first = Generation(2);
        var second = Generation(1) with { Id = "g9", Number = 9 };
        var secondSegments = Segments(1, 2).Select(s => s with { Manifest = s.Manifest! with { Generation = "g9" } }).ToList();
        IReadOnlyList<History> histories =
        [
            History.Read(first, Segments(2, 2), null, History.Check.Records),
            History.Read(second, secondSegments, null, History.Check.Records),
        ];
        BackupManifest[] backups = [PinnedAt("in-second", 1, 10, H(1, 1), 5), PinnedAt("in-first", 2, 10, H(2, 1), 3)];

        var plans = Timeline.PlansFor(backups, b => b, b => b.Timestamp, histories, null);

        Assert.Equal(["g9", "g2"], plans.Where(p => p.Segments.Count > 0).Select(p => p.Generation!.Id));
    }
}
