using Emergence.Persistence.Database;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Support;

/// <summary>The end of a database's log as SQLite publishes it, read by a read-only connection of the test's own.</summary>
public static class PublishedEnds
{
    /// <summary>Gives <paramref name="read"/> the published end while a read transaction holds it (the log cannot restart under it).</summary>
    public static T With<T>(string databasePath, Func<PublishedLogEnd, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        using var reader = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        reader.Open();
        using var transaction = reader.BeginTransaction(deferred: true);
        RowsDatabase.Execute(reader, "SELECT count(*) FROM sqlite_schema");
        return read(PublishedLogEnd.Of(reader));
    }
}
