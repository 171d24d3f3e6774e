using Emergence.Persistence.Database;

namespace Emergence.Bench;

/// <summary>Generates a WAL-mode database with a realistic mix: an indexed table of text and blobs.</summary>
public static class BenchDatabase
{
    public static void Create(string path, long targetBytes, IProgress<double> progress)
    {
        var factory = new SqliteConnectionFactory();
        using var connection = factory.OpenOrCreate(path);
        Execute(connection, """
            CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL, payload BLOB NOT NULL, created TEXT NOT NULL);
            CREATE INDEX items_name ON items (name);
            """);
        var random = new Random(20250114);
        var batch = 0;
        while (new FileInfo(path).Length + WalLength(path) < targetBytes)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO items (name, body, payload, created) VALUES ($name, $body, $payload, $created)";
            var name = command.Parameters.Add("$name", Microsoft.Data.Sqlite.SqliteType.Text);
            var body = command.Parameters.Add("$body", Microsoft.Data.Sqlite.SqliteType.Text);
            var payload = command.Parameters.Add("$payload", Microsoft.Data.Sqlite.SqliteType.Blob);
            var created = command.Parameters.Add("$created", Microsoft.Data.Sqlite.SqliteType.Text);
            for (var i = 0; i < 5000; i++)
            {
                name.Value = $"item-{random.Next():x8}";
                body.Value = Words(random, 40 + random.Next(120));
                var bytes = new byte[200 + random.Next(900)];
                random.NextBytes(bytes);
                payload.Value = bytes;
                created.Value = DateTime.UnixEpoch.AddSeconds(random.Next()).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            if (++batch % 20 == 0)
            {
                progress.Report((double)(new FileInfo(path).Length + WalLength(path)) / targetBytes);
            }
        }

        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
    }

    private static readonly string[] Vocabulary = ["volume", "backup", "deploy", "railway", "sqlite", "page", "journal", "checksum", "restore", "health", "timer", "lock", "mount", "snapshot", "ledger", "account"];

    private static string Words(Random random, int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]));

    private static long WalLength(string path) => new FileInfo(path + "-wal") is { Exists: true } wal ? wal.Length : 0;

    private static void Execute(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
