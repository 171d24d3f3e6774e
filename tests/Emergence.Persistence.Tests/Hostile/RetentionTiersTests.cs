using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>Retention by tiers: the newest distinct backups, one per day, one per week, and the state before each drop.</summary>
public sealed class RetentionTiersTests
{
    private static BackupEntry Entry(string name, DateTimeOffset at, string? content = null, long? schema = 2, long pages = 10, int userVersion = 1, string? suspect = null) => new()
    {
        Name = name,
        Path = "/data/backups/" + name,
        Stamp = at,
        Sequence = 1,
        Size = 1,
        Manifest = ContentLossTests.Manifest(name, schema, pages, userVersion, content, at, suspect: suspect),
    };

    private static readonly DateTimeOffset Now = TestHarness.Start;

    private static List<string> Deleted(RetentionRules rules, params BackupEntry[] newestFirst) =>
        [.. RetentionPolicy.SelectForDeletion(newestFirst, rules, null).Select(b => b.Name)];

    [Fact]
    public void Hourly_KeepsNewestFivePlusOnePerDayAndWeek()
    {
        // 30 days of one backup every 6 hours, all different.
        var entries = Enumerable.Range(0, 120).Select(i => Entry($"b{i:000}", Now.AddHours(-6 * i))).ToArray();

        var kept = entries.Select(e => e.Name).Except(Deleted(new RetentionRules(5, 7, 4), entries)).ToList();

        // The 5 newest, the newest of each of 7 days, and of each of 4 weeks (back to the week of 23 December).
        Assert.Equal(["b000", "b001", "b002", "b003", "b004"], kept.Take(5));
        var days = kept.Select(n => entries.Single(e => e.Name == n).TakenAt.UtcDateTime.Date).Distinct().Count();
        Assert.True(days >= 7, $"kept backups span {days} days");
        Assert.Contains(kept, n => entries.Single(e => e.Name == n).TakenAt < Now.AddDays(-14));
        Assert.True(kept.Count <= 5 + 7 + 4, $"kept {kept.Count}");
    }

    [Fact]
    public void IdenticalRun_CountsAsOneContent()
    {
        var same = Enumerable.Range(0, 8).Select(i => Entry($"same{i}", Now.AddMinutes(-i), content: "X")).ToList();
        var older = Enumerable.Range(0, 4).Select(i => Entry($"old{i}", Now.AddMinutes(-100 - i))).ToList();

        var deleted = Deleted(new RetentionRules(5, 0, 0), [.. same, .. older]);

        Assert.DoesNotContain(deleted, n => n.StartsWith("old", StringComparison.Ordinal));
        Assert.Equal(["same5", "same6", "same7"], deleted);
    }

    [Fact]
    public void BackupBeforeADrop_IsPinned()
    {
        var bad = Enumerable.Range(0, 6).Select(i => Entry($"bad{i}", Now.AddHours(-i), content: $"E{i}", schema: 0, pages: 1, suspect: "lost")).ToList();
        var good = Entry("good", Now.AddHours(-10), schema: 5, pages: 500);
        var older = Entry("older", Now.AddHours(-11), schema: 5, pages: 490);

        var deleted = Deleted(new RetentionRules(5, 0, 0), [.. bad, good, older]);

        Assert.DoesNotContain("good", deleted);
        Assert.Contains("older", deleted);
    }

    [Theory]
    [InlineData(2, 10, 1, 2, 10, 1, false)] // the same
    [InlineData(2, 10, 1, 2, 12, 2, false)] // grew and migrated
    [InlineData(2, 10, 1, 1, 10, 1, true)] // a table dropped
    [InlineData(2, 10, 2, 2, 10, 1, true)] // user_version went back
    [InlineData(2, 10, 1, 2, 4, 1, true)] // lost more than half its pages
    [InlineData(2, 10, 1, 2, 6, 1, false)] // lost fewer than half
    public void Shrank_Table(long olderSchema, long olderPages, int olderVersion, long newerSchema, long newerPages, int newerVersion, bool expected)
    {
        var older = ContentLossTests.Manifest("o", olderSchema, olderPages, olderVersion);
        var newer = ContentLossTests.Manifest("n", newerSchema, newerPages, newerVersion);

        Assert.Equal(expected, ContentLoss.Shrank(older, newer));
    }
}
