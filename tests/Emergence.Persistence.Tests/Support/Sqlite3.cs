namespace Emergence.Persistence.Tests.Support;

/// <summary>The sqlite3 command-line shell: an independent reader of what the app wrote.</summary>
public static class Sqlite3
{
    /// <summary>Runs SQL against a database file with the sqlite3 shell and returns its trimmed output.</summary>
    public static string Query(string databasePath, string sql)
    {
        var (exit, output, error) = Shell.Run("sqlite3", "-batch", "-readonly", databasePath, sql);
        if (exit != 0)
        {
            throw new InvalidOperationException($"sqlite3 exited {exit}: {error}");
        }

        return output.Trim();
    }

    /// <summary>The hex SHA-256 of a file, from the sha256sum tool.</summary>
    public static string Sha256Sum(string path) => Shell.Run("sha256sum", path).Output.Split(' ')[0];
}
