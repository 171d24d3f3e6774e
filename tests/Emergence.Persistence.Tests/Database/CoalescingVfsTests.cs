using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Database;

public sealed class CoalescingVfsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("emergence-vfs-").FullName;
    private readonly SqliteConnectionFactory _factory = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A WAL database of several chunks: indexed text and blobs, some rows deleted (free pages).</summary>
    private string Source()
    {
        var path = Path.Combine(_directory, "source.sqlite");
        using var connection = _factory.OpenOrCreate(path);
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL);
            CREATE INDEX items_name ON items (name);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO items (name, payload) SELECT hex(randomblob(12)), randomblob(100 + (i * 37) % 3000) FROM n;
            DELETE FROM items WHERE id % 7 = 0;
            """;
        command.ExecuteNonQuery();
        return path;
    }

    private static void Copy(SqliteConnection from, SqliteConnection to)
    {
        using (var command = to.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;";
            command.ExecuteNonQuery();
        }

        from.BackupDatabase(to);
        using (var command = to.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode = DELETE;";
            command.ExecuteNonQuery();
        }
    }

    [Theory]
    [InlineData("copy.sqlite")]
    [InlineData("a copy #1? 100%.sqlite")]
    public void OpenCopyTarget_BackupOfADatabase_WritesTheSameBytesAsThePlatformVfs(string name)
    {
        var source = Source();
        var plain = Path.Combine(_directory, "plain.sqlite");
        var gathered = Path.Combine(_directory, name);
        using var from = _factory.OpenMapped(source, SqliteOpenMode.ReadWrite);

        using (var to = new SqliteConnection(_factory.ConnectionString(plain, SqliteOpenMode.ReadWriteCreate)))
        {
            to.Open();
            Copy(from, to);
        }

        var gatheredBefore = CoalescingVfs.GatheredWrites;
        using (var to = _factory.OpenCopyTarget(gathered))
        {
            Copy(from, to);
        }

        var chunks = new FileInfo(gathered).Length / CoalescingVfs.ChunkBytes;
        Assert.True(chunks > 8, "the copy should span many chunks");
        Assert.True(CoalescingVfs.GatheredWrites - gatheredBefore >= chunks - 2, $"{CoalescingVfs.GatheredWrites - gatheredBefore} gathered writes for {chunks} chunks");
        Assert.Equal(Sqlite3.Sha256Sum(plain), Sqlite3.Sha256Sum(gathered));
        Assert.Equal("ok", Sqlite3.Query(gathered, "PRAGMA integrity_check;"));
        Assert.Equal(Sqlite3.Query(source, "SELECT count(*), sum(length(payload)) FROM items;"), Sqlite3.Query(gathered, "SELECT count(*), sum(length(payload)) FROM items;"));
        var files = Directory.GetFiles(_directory).Select(Path.GetFileName).Where(f => !f!.StartsWith("source.sqlite-", StringComparison.Ordinal));
        Assert.Equal(new[] { "plain.sqlite", name, "source.sqlite" }.Order(StringComparer.Ordinal), files.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void OpenCopyTarget_ReadsAndRewritesWhileWriting_SeeEveryWriteInOrder()
    {
        // Writes that do not continue the gathered ones, reads of gathered pages and a size query in the
        // middle of a transaction: the connection must see exactly what it wrote.
        var path = Path.Combine(_directory, "mixed.sqlite");
        using var connection = _factory.OpenCopyTarget(path);
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = 5;
            CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
            BEGIN;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
            INSERT INTO t (body) SELECT randomblob(700) FROM n;
            UPDATE t SET body = zeroblob(700) WHERE id % 3 = 0;
            COMMIT;
            """;
        command.ExecuteNonQuery();
        command.CommandText = "SELECT count(*), sum(length(body)), sum(body = zeroblob(700)) FROM t;";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((2000L, 1_400_000L, 666L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
        reader.Close();
        connection.Close();

        Assert.Equal("ok", Sqlite3.Query(path, "PRAGMA integrity_check;"));
        Assert.Equal("2000|666", Sqlite3.Query(path, "SELECT count(*), sum(body = zeroblob(700)) FROM t;"));
    }
}
