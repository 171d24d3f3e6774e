using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Recovery;

public sealed class DatabaseRecoveryTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private RecoveryOutcome Recover() =>
        _h.WithVolumeLock((location, held) => _h.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken).GetAwaiter().GetResult());

    [Fact]
    public async Task Recover_BytesOverwrittenInTheMiddle_QuarantinesAndRestoresTheRows()
    {
        _h.AddNotes(2000);
        await _h.BackupAsync();
        using (var stream = new FileStream(_h.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            stream.Position = stream.Length / 2;
            stream.Write(new byte[8192]);
        }

        var outcome = Recover();

        Assert.Equal(DatabaseCondition.Corrupt, outcome.Found);
        Assert.NotNull(outcome.Restore);
        Assert.Equal("2000", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
        Assert.Equal("ok", Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
        Assert.True(File.Exists(Path.Combine(outcome.Restore.QuarantineDirectory!, "database.sqlite")));
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "DatabaseUnusable" && r.Level == LogLevel.Error);
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "RestorePerformed" && r.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task Recover_ZeroByteFileWithBackups_RestoresInsteadOfTreatingItAsNew()
    {
        _h.AddNotes(10);
        await _h.BackupAsync();
        File.WriteAllBytes(_h.DatabasePath, []);
        File.Delete(_h.DatabasePath + "-wal");
        File.Delete(_h.DatabasePath + "-shm");

        var outcome = Recover();

        Assert.Equal(DatabaseCondition.Empty, outcome.Found);
        Assert.Equal("10", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task Recover_TruncatedFile_Restores()
    {
        _h.AddNotes(2000);
        await _h.BackupAsync();
        using (var stream = new FileStream(_h.DatabasePath, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length / 3);
        }

        var outcome = Recover();

        Assert.NotEqual(DatabaseCondition.Healthy, outcome.Found);
        Assert.Equal("2000", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task Recover_MissingDatabaseWithBackups_Restores()
    {
        _h.AddNotes(7);
        await _h.BackupAsync();
        File.Delete(_h.DatabasePath);

        var outcome = Recover();

        Assert.Equal(DatabaseCondition.Missing, outcome.Found);
        Assert.Equal("7", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public void Recover_CorruptDatabaseWithoutBackups_ReportsUnrecoverableAndTouchesNothing()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        File.WriteAllText(_h.DatabasePath, "this is not a database, but it is someone's data");

        var outcome = Recover();

        Assert.False(outcome.DatabaseUsable);
        Assert.Equal("this is not a database, but it is someone's data", File.ReadAllText(_h.DatabasePath));
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "RecoveryImpossible" && r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Recover_MissingDatabaseAndEveryBackupCorrupt_DoesNotPretendAndCreatesNothing()
    {
        _h.AddNotes(3);
        var only = await _h.BackupAsync();
        Backups.BackupVerifierTests.FlipByte(only.BackupPath, 100);
        File.Delete(_h.DatabasePath);

        var outcome = Recover();

        Assert.False(outcome.DatabaseUsable);
        Assert.False(File.Exists(_h.DatabasePath));
    }

    [Fact]
    public void Recover_HealthyDatabase_DoesNothing()
    {
        _h.AddNotes(3);

        var outcome = Recover();

        Assert.Equal(DatabaseCondition.Healthy, outcome.Found);
        Assert.Null(outcome.Restore);
    }
}
