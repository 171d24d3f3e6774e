using Emergence.Persistence.Database;

namespace Emergence.Persistence.Tests.Database;

public sealed class SqliteRuntimeTests
{
    [Theory]
    [InlineData("3.51.2", false)]
    [InlineData("3.7.0", false)]
    [InlineData("3.46.1", false)]
    [InlineData("3.51.3", true)]
    [InlineData("3.53.3", true)]
    [InlineData("4.0.0", true)]
    [InlineData("garbage", false)]
    public void IsSupported_Table_RefusesVersionsWithTheWalResetBug(string version, bool supported)
    {
        Assert.Equal(supported, SqliteRuntime.IsSupported(version));
    }

    [Fact]
    public void Version_BundledSqlite_IsSupported()
    {
        SqliteRuntime.EnsureSupported();

        Assert.True(SqliteRuntime.IsSupported(SqliteRuntime.Version), SqliteRuntime.Version);
    }
}
