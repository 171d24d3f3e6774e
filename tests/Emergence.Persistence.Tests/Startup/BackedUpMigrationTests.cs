using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Startup;

public sealed class BackedUpMigrationTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private BackedUpMigration Runner(params Migration[] migrations) =>
        new(new MigrationRunner(_h.Get<SqliteConnectionFactory>(), Migration.Ordered(migrations), NullLogger<MigrationRunner>.Instance), _h.Get<BackupService>());

    private static readonly Migration First = new(1, "first", "CREATE TABLE a (x INTEGER);");
    private static readonly Migration Second = new(2, "second", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1);");

    [Fact]
    public async Task ApplyAsync_PendingOnANonEmptyDatabase_TakesAPreMigrationBackupFirst()
    {
        await Runner(First).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken);

        var outcome = await Runner(First, Second).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken);

        Assert.NotNull(outcome.PreMigrationBackup);
        Assert.Equal("pre-migration", outcome.PreMigrationBackup.Reason);
        Assert.Equal(1, outcome.PreMigrationBackup.UserVersion);
        Assert.Equal("0", Sqlite3.Query(outcome.PreMigrationBackup.BackupPath, "SELECT count(*) FROM sqlite_schema WHERE name = 'b';"));
        Assert.Equal("2", Sqlite3.Query(_h.DatabasePath, "PRAGMA user_version;"));
    }

    [Fact]
    public async Task ApplyAsync_NewDatabase_NeedsNoBackup()
    {
        var outcome = await Runner(First, Second).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken);

        Assert.True(outcome.Created);
        Assert.Null(outcome.PreMigrationBackup);
        Assert.Equal(2, outcome.ToVersion);
    }

    [Fact]
    public async Task ApplyAsync_PreMigrationBackupFails_AppliesNothing()
    {
        await Runner(First).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken);
        // A directory where the backup's manifest must go: the backup fails at its last step.
        Directory.CreateDirectory(Path.Combine(_h.BackupDirectory, "database_backup_20250114_103000.sqlite.json"));

        var error = await Assert.ThrowsAsync<MigrationFailedException>(() => Runner(First, Second).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken));

        Assert.Contains("pre-migration backup failed", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", Sqlite3.Query(_h.DatabasePath, "PRAGMA user_version;"));
        Assert.Equal("0", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM sqlite_schema WHERE name = 'b';"));
    }

    [Fact]
    public async Task ApplyAsync_FailingScript_RollsBackThatMigrationOnly()
    {
        var broken = new Migration(2, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);");

        var error = await Assert.ThrowsAsync<MigrationFailedException>(() => Runner(First, broken).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken));

        Assert.Contains("0002_broken", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", Sqlite3.Query(_h.DatabasePath, "PRAGMA user_version;"));
        Assert.Equal("0", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM sqlite_schema WHERE name = 'c';"));
    }

    [Fact]
    public async Task ApplyAsync_DatabaseNewerThanTheApp_Refuses()
    {
        await Runner(First, Second).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<MigrationFailedException>(() => Runner(First).ApplyAsync(_h.Locate(), TestContext.Current.CancellationToken));

        Assert.Contains("newer than this app", error.Message, StringComparison.Ordinal);
    }
}
