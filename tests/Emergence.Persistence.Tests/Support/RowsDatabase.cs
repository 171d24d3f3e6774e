using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// A harness whose database holds one table of numbered rows (<c>rows</c>: 1, 2, … with no gap), written by one
/// connection a transaction per row, replicated with the test driving the polls and the clock, and read back with the
/// sqlite3 CLI: the setup the replication and off-volume tests share.
/// </summary>
public sealed class RowsDatabase : IDisposable
{
    public RowsDatabase(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
    {
        H = new TestHarness(settings, configureServices: configureServices);
        Directory.CreateDirectory(Path.GetDirectoryName(H.DatabasePath)!);
        Writer = H.Get<SqliteConnectionFactory>().OpenOrCreate(H.DatabasePath);
        Execute(Writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, batch INTEGER NOT NULL, pad BLOB NOT NULL)");
    }

    public TestHarness H { get; }

    public SqliteConnection Writer { get; }

    /// <summary>The number the next row gets.</summary>
    public int Next { get; set; } = 1;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Commits <paramref name="count"/> rows, one transaction each, all in batch <paramref name="batch"/>.</summary>
    public void Commit(int count, int batch, SqliteConnection? connection = null)
    {
        for (var i = 0; i < count; i++)
        {
            Execute(connection ?? Writer, $"INSERT INTO rows (n, batch, pad) VALUES ({Next++}, {batch}, randomblob(300))");
        }
    }

    /// <summary>Opens a generation and writes one segment per batch of <paramref name="perBatch"/> rows, a second apart; returns the segments.</summary>
    public async Task<List<SegmentManifest>> ReplicateAsync(int batches, int perBatch = 10)
    {
        var segments = new List<SegmentManifest>();
        using var session = await ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), H.Get<BackupService>(), H.Time, NullLogger.Instance, 64L << 20, null, Token);
        for (var batch = 1; batch <= batches; batch++)
        {
            Commit(perBatch, batch);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            segments.Add(session.Poll().Segment!);
        }

        return segments;
    }

    /// <summary>The volume is lost: the database's directory, backups and history with it.</summary>
    public void WipeVolume()
    {
        Writer.Close();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(H.DatabasePath)!, recursive: true);
    }

    /// <summary>The row count, whether rows are exactly 1..count, and integrity, read by the sqlite3 CLI.</summary>
    public (int Count, bool Prefix, string Integrity) ReadBack()
    {
        Writer.Close();
        var count = int.Parse(Sqlite3.Query(H.DatabasePath, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        var max = Sqlite3.Query(H.DatabasePath, "SELECT coalesce(max(n), 0) FROM rows;");
        return (count, max == count.ToString(CultureInfo.InvariantCulture), Sqlite3.Query(H.DatabasePath, "PRAGMA integrity_check;"));
    }

    public void Dispose()
    {
        Writer.Dispose();
        H.Dispose();
    }
}
