using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Tests.Backups;

public sealed class RetentionPolicyTests
{
    private static BackupEntry Entry(string name) => new()
    {
        Name = name,
        Path = "/backups/" + name,
        Stamp = DateTimeOffset.UnixEpoch,
        Sequence = 1,
        Size = 1,
    };

    public static TheoryData<string[], int, string?, string[]> Cases => new()
    {
        // newest first          keep  protected  deleted
        { [], 5, null, [] },
        { ["e", "d", "c"], 5, null, [] },
        { ["e", "d", "c", "b", "a"], 5, null, [] },
        { ["h", "g", "f", "e", "d", "c", "b", "a"], 5, null, ["c", "b", "a"] },
        { ["c", "b", "a"], 1, null, ["b", "a"] },
        { ["c", "b", "a"], 1, "c", ["b", "a"] },
        // The protected backup sorts last (the clock stepped back): it stays, and takes one slot.
        { ["c", "b", "a"], 2, "a", ["b"] },
        { ["c", "b", "a"], 1, "a", ["c", "b"] },
        // A protected name that is not in the list changes nothing.
        { ["c", "b", "a"], 2, "zzz", ["a"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SelectForDeletion_Table_DeletesOldestBeyondKeepButNeverTheProtectedOne(string[] newestFirst, int keep, string? protectedName, string[] expected)
    {
        var entries = newestFirst.Select(Entry).ToList();

        var deleted = RetentionPolicy.SelectForDeletion(entries, keep, protectedName);

        Assert.Equal(expected, deleted.Select(d => d.Name));
    }

    [Fact]
    public void SelectForDeletion_KeepBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RetentionPolicy.SelectForDeletion([], 0, null));
    }
}
