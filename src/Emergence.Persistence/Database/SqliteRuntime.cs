using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Database;

/// <summary>
/// The SQLite library this process runs on. SQLite 3.7.0 to 3.51.2 carry a WAL-reset bug that can
/// corrupt a database (fixed in 3.51.3), so the library refuses to run on them.
/// </summary>
public static class SqliteRuntime
{
    /// <summary>The oldest SQLite version accepted.</summary>
    public static readonly Version MinimumVersion = new(3, 51, 3);

    private static readonly Lazy<string> LazyVersion = new(ReadVersion);

    /// <summary>The version string of the SQLite library in use, e.g. <c>3.53.3</c>.</summary>
    public static string Version => LazyVersion.Value;

    /// <summary>Throws when the SQLite in use is older than <see cref="MinimumVersion"/>.</summary>
    /// <exception cref="NotSupportedException">The bundled SQLite is too old.</exception>
    public static void EnsureSupported()
    {
        if (!IsSupported(Version))
        {
            throw new NotSupportedException(
                $"SQLite {Version} is loaded, but {MinimumVersion} or newer is required: versions 3.7.0 to 3.51.2 have a WAL-reset bug that can corrupt the database. Update Microsoft.Data.Sqlite (10.0.15 bundles 3.53.x).");
        }
    }

    /// <summary>Whether a SQLite version string is at or above <see cref="MinimumVersion"/>.</summary>
    public static bool IsSupported(string version) =>
        System.Version.TryParse(version, out var parsed) && parsed >= MinimumVersion;

    private static string ReadVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }
}
