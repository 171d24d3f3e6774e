using System.Diagnostics;
using System.Text;
using Emergence.Persistence.Database;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Backups;

/// <summary>
/// Writer threads and a separate writer process commit transfers continuously while backups run back
/// to back: every backup must pass integrity_check and keep the ledger's total, and no writer may see
/// SQLITE_BUSY beyond its busy timeout.
/// </summary>
public sealed class WritersUnderBackupTests : IDisposable
{
    private const int Accounts = 50;
    private const int Total = Accounts * 100;
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task BackupsBackToBack_WhileThreadsAndAProcessCommit_AreAllConsistentAndNoWriterFails()
    {
        _h.CreateLedger(Accounts);
        using var stop = new CancellationTokenSource();
        var threads = Enumerable.Range(0, 3).Select(seed => Task.Run(() => WriteTransfers(_h.DatabasePath, seed, stop.Token), TestContext.Current.CancellationToken)).ToList();
        using var process = StartSqlite3Writer(_h.DatabasePath, transactions: 3000);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);

        var checkedBackups = 0;
        var running = Stopwatch.StartNew();
        while (running.Elapsed < TimeSpan.FromSeconds(4) || checkedBackups < 5)
        {
            var manifest = await _h.BackupAsync(TimeSpan.FromSeconds(1));
            Assert.Equal("ok", Sqlite3.Query(manifest.BackupPath, "PRAGMA integrity_check;"));
            Assert.Equal(Total.ToString(System.Globalization.CultureInfo.InvariantCulture), Sqlite3.Query(manifest.BackupPath, "SELECT sum(balance) FROM accounts;"));
            checkedBackups++;
        }

        await stop.CancelAsync();
        var committed = await Task.WhenAll(threads);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.All(committed, c => Assert.True(c > 0));
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Equal(Total.ToString(System.Globalization.CultureInfo.InvariantCulture), Sqlite3.Query(_h.DatabasePath, "SELECT sum(balance) FROM accounts;"));
        Assert.Equal("ok", Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
    }

    /// <summary>Commits transfers until stopped; any SqliteException (SQLITE_BUSY past the timeout included) fails the test.</summary>
    private static int WriteTransfers(string databasePath, int seed, CancellationToken stop)
    {
        using var connection = new SqliteConnectionFactory().OpenExisting(databasePath);
        var random = new Random(seed);
        var committed = 0;
        while (!stop.IsCancellationRequested)
        {
            var (from, to, amount) = (random.Next(1, Accounts + 1), random.Next(1, Accounts + 1), random.Next(1, 5));
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"""
                UPDATE accounts SET balance = balance - {amount} WHERE id = {from};
                UPDATE accounts SET balance = balance + {amount} WHERE id = {to};
                INSERT INTO transfers (from_id, to_id, amount) VALUES ({from}, {to}, {amount});
                """;
            command.ExecuteNonQuery();
            transaction.Commit();
            committed++;

            // A real app thinks between commits; writers in a zero-pause loop would starve each other
            // (SQLite's busy handler is not fair), which says nothing about backups.
            Thread.Sleep(1);
        }

        return committed;
    }

    private Process StartSqlite3Writer(string databasePath, int transactions)
    {
        var script = new StringBuilder();
        var random = new Random(99);
        for (var i = 0; i < transactions; i++)
        {
            var (from, to) = (random.Next(1, Accounts + 1), random.Next(1, Accounts + 1));
            script.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"BEGIN IMMEDIATE; UPDATE accounts SET balance = balance - 2 WHERE id = {from}; UPDATE accounts SET balance = balance + 2 WHERE id = {to}; COMMIT;\n");
        }

        var scriptPath = Path.Combine(_h.Root, "writer.sql");
        File.WriteAllText(scriptPath, script.ToString());
        var info = new ProcessStartInfo("sqlite3", ["-batch", "-bail", "-cmd", ".timeout 10000", databasePath, $".read {scriptPath}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        return Process.Start(info)!;
    }
}
