using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Database;

/// <summary>Finds out whether the database file is present and sound, without ever creating it.</summary>
public sealed class DatabaseProbe(SqliteConnectionFactory connections)
{
    /// <summary>The outcome of a probe.</summary>
    /// <param name="Condition">What was found.</param>
    /// <param name="Detail">The SQLite error or the first <c>quick_check</c> complaint; <see langword="null"/> when healthy or missing.</param>
    /// <param name="Facts">Header facts when the file could be checked.</param>
    public sealed record Result(DatabaseCondition Condition, string? Detail, DatabaseFacts? Facts);

    /// <summary>Opens the database (never creating it) and runs <c>quick_check</c> (or <c>integrity_check</c>).</summary>
    public Result Probe(string databasePath, IntegrityCheck kind = IntegrityCheck.Quick)
    {
        if (Platform.RegularFile.NotADatabaseFile(databasePath) is { } special)
        {
            return new Result(DatabaseCondition.Unopenable, $"the database path is {special}, not a database file", null);
        }

        var file = new FileInfo(databasePath);
        if (!file.Exists)
        {
            return new Result(DatabaseCondition.Missing, null, null);
        }

        if (file.Length == 0)
        {
            return new Result(DatabaseCondition.Empty, "the file is 0 bytes long", null);
        }

        try
        {
            using var connection = connections.OpenForProbe(databasePath);
            var facts = DatabaseInspector.Check(connection, kind);
            return facts.IsOk
                ? new Result(DatabaseCondition.Healthy, null, facts)
                : new Result(DatabaseCondition.Corrupt, facts.CheckResult, facts);
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) is 11 or 26)
        {
            // SQLITE_CORRUPT (11) and SQLITE_NOTADB (26), extended codes included: the bytes are not a sound database.
            return new Result(DatabaseCondition.Corrupt, ex.Message, null);
        }
        catch (SqliteException ex)
        {
            return new Result(DatabaseCondition.Unopenable, ex.Message, null);
        }
    }
}
