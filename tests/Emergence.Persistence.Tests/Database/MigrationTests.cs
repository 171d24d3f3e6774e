using Emergence.Persistence.Database;

namespace Emergence.Persistence.Tests.Database;

public sealed class MigrationTests
{
    private static readonly Migration First = new(1, "first", "CREATE TABLE a (x INTEGER);");

    [Fact]
    public void Ordered_GapInVersions_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => Migration.Ordered([First, new Migration(3, "third", "")]));
    }

    [Fact]
    public void Embedded_Migrations_AreNumberedFromOne()
    {
        Assert.NotEmpty(Migration.Embedded);
        Assert.Equal(Enumerable.Range(1, Migration.Embedded.Count), Migration.Embedded.Select(m => m.Version));
    }
}
