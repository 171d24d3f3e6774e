using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 8: a container killed in the middle of a large backup leaves nothing the next one trips on.</summary>
public sealed class KilledMidBackupTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task SigkillDuringABackup_NextStartSweepsThePartialFile_DatabaseIntact()
    {
        var volume = NewVolume(sizeMiB: 2048);
        var first = Deploy(volume);
        await first.DeployedAsync();
        // About 300 MB, so a backup takes long enough to be caught half-written.
        Sqlite(first, DatabasePath, "CREATE TABLE bulk (id INTEGER PRIMARY KEY, payload BLOB); INSERT INTO bulk (payload) SELECT randomblob(1000000) FROM generate_series(1, 300);");
        var (_, masterKey) = await KeysAsync(first);

        await RunScheduledBackupNowAsync(first, masterKey);

        string partial = "";
        for (var attempt = 0; attempt < 600 && partial.Length == 0; attempt++)
        {
            partial = first.Exec("sh", "-c", "ls /app/data/backups/ | grep '\\.tmp$'").Output.Trim();
        }

        Assert.False(partial.Length == 0, $"no backup was seen in progress:\n{first.Output.Tail()}");
        await first.KillAsync();

        var afterKill = Shell(volume, "ls", "-A", "/app/data/backups");
        Assert.Contains(".tmp", afterKill, StringComparison.Ordinal);

        var second = Deploy(volume);
        await second.DeployedAsync();

        // The killed backup's partial files are gone; the new container may already be writing a backup of its own
        // (the replicator's snapshot, when it cannot continue the last generation), under a new name.
        var listed = second.ExecChecked("ls", "-A", "/app/data/backups").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(partial.Split('\n', StringSplitOptions.RemoveEmptyEntries), name => Assert.DoesNotContain(name.Trim(), listed));
        Assert.NotEmpty(second.Output.Events("BackupLeftoversSwept"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        Assert.Equal("300", Sqlite(second, DatabasePath, "SELECT count(*) FROM bulk;"));
        foreach (var manifest in Manifests(second))
        {
            var file = "/app/data/backups/" + manifest.GetProperty("filename").GetString();
            Assert.Equal(manifest.GetProperty("checksum").GetString(), second.ExecChecked("sha256sum", file).Split(' ')[0]);
        }
    }
}
