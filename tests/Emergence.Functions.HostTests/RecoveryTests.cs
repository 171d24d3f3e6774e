using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 6: a corrupt database on the volume is recovered from the newest backup before the app serves.</summary>
public sealed class RecoveryTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task CorruptDatabase_IsQuarantinedAndRestoredBeforeTheHealthcheckPasses()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        Sqlite(first, DatabasePath, "CREATE TABLE rehearsal_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO rehearsal_rows (note) SELECT 'row ' || value FROM generate_series(1, 300);");
        Assert.Contains("check:     quick_check ok", first.ExecChecked("emergence-db", "backup"), StringComparison.Ordinal);
        Assert.True(await first.StopAsync());

        // Between deploys the file is damaged: its header overwritten, so SQLite no longer sees a database.
        var corruptSha = Shell(volume, "sh", "-c",
            $"dd if=/dev/urandom of={DatabasePath} bs=100 count=1 conv=notrunc 2>/dev/null && rm -f {DatabasePath}-wal {DatabasePath}-shm && sha256sum {DatabasePath}").Split(' ')[0];

        var second = Deploy(volume);
        var check = await second.DeployedAsync();

        var report = Json(check.LastBody);
        Assert.Equal("healthy", report.GetProperty("status").GetString());
        Assert.Equal("ok", report.GetProperty("database").GetProperty("integrity").GetProperty("result").GetString());
        var lastRestore = report.GetProperty("database").GetProperty("last_restore");
        Assert.Equal(Manifests(second).Single(m => m.GetProperty("reason").GetString() == "manual").GetProperty("filename").GetString(),
            lastRestore.GetProperty("backup").GetString());
        Assert.Equal("300", Sqlite(second, DatabasePath, "SELECT count(*) FROM rehearsal_rows;"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        var quarantined = second.ExecChecked("sh", "-c", "ls /app/data/backups/quarantine/*/database.sqlite").Trim();
        Assert.Equal(corruptSha, second.ExecChecked("sha256sum", quarantined).Split(' ')[0]);
        Assert.Equal(quarantined[..quarantined.LastIndexOf('/')], lastRestore.GetProperty("quarantine").GetString());
        var restored = Assert.Single(second.Output.Events("RestorePerformed"));
        Assert.Contains(quarantined[..quarantined.LastIndexOf('/')], restored, StringComparison.Ordinal);
        Assert.Empty(second.Output.Events("DatabaseCreated"));
    }
}
