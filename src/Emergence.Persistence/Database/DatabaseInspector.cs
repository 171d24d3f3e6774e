using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Database;

/// <summary>Runs integrity checks and reads header facts from database files, without creating or changing them.</summary>
public static class DatabaseInspector
{
    /// <summary>
    /// Runs <c>quick_check</c> or <c>integrity_check</c> on an open connection and reads the page size,
    /// page count and user version.
    /// </summary>
    public static DatabaseFacts Check(SqliteConnection connection, IntegrityCheck kind)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = kind == IntegrityCheck.Full ? "PRAGMA integrity_check(1)" : "PRAGMA quick_check(1)";
        var result = command.ExecuteScalar() as string ?? "no result";
        var schemaObjects = result == "ok" ? Scalar(connection, "SELECT count(*) FROM sqlite_schema") : -1;
        return new DatabaseFacts(result, Scalar(connection, "PRAGMA page_size"), Scalar(connection, "PRAGMA page_count"), (int)Scalar(connection, "PRAGMA user_version"), schemaObjects);
    }

    /// <summary>Reads one integer pragma.</summary>
    public static long Scalar(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs SQL that returns nothing (pragmas, transaction control).</summary>
    public static void Execute(SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Whether the file's header says it is in WAL mode (bytes 18 and 19 are 2).</summary>
    /// <remarks>Only for backup files: the live database is never opened with ordinary file APIs.</remarks>
    public static bool HasWalHeader(string backupPath)
    {
        Span<byte> header = stackalloc byte[20];
        using var handle = File.OpenHandle(backupPath, FileMode.Open, FileAccess.Read);
        return RandomAccess.Read(handle, header, 0) == header.Length && header[18] == 2 && header[19] == 2;
    }
}
