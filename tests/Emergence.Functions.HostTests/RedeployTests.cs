using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 2: a redeploy on the same volume keeps every committed row.</summary>
public sealed class RedeployTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task Redeploy_KeepsEveryCommittedRowAndBacksUpBeforeServing()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        var firstBackups = Manifests(first).Count;

        // Rows committed by another writer while the app runs (the app's own writes stand in).
        Sqlite(first, DatabasePath, "CREATE TABLE rehearsal_rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL);");
        for (var batch = 0; batch < 10; batch++)
        {
            Sqlite(first, DatabasePath, $"INSERT INTO rehearsal_rows (note) SELECT 'batch {batch} row ' || value FROM generate_series(1, 50);");
        }

        var inode = first.ExecChecked("stat", "-c", "%i", DatabasePath).Trim();

        // Railway's redeploy: SIGTERM to the old container (it exits within drainingSeconds), then the new one.
        Assert.True(await first.StopAsync(), $"the first container did not exit within drainingSeconds:\n{first.Output.Tail()}");
        Assert.Equal(0, first.ExitCode);
        var second = Deploy(volume);
        var check = await second.DeployedAsync();
        Assert.Equal("healthy", Json(check.LastBody).GetProperty("status").GetString());

        Assert.Equal("500", Sqlite(second, DatabasePath, "SELECT count(*) FROM rehearsal_rows;"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        Assert.Equal(inode, second.ExecChecked("stat", "-c", "%i", DatabasePath).Trim());
        Assert.Empty(second.Output.Events("DatabaseCreated"));

        // The changed database was backed up at startup, before serving: the new backup holds the rows.
        var manifests = Manifests(second);
        Assert.Equal(firstBackups + 1, manifests.Count);
        var startupBackup = manifests[^1];
        Assert.Equal("startup", startupBackup.GetProperty("reason").GetString());
        Assert.Equal("500", Sqlite(second, "/app/data/backups/" + startupBackup.GetProperty("filename").GetString(), "SELECT count(*) FROM rehearsal_rows;"));
        Assert.Contains(second.Output.Events("BackupCompleted"), line => line.Contains("(startup)", StringComparison.Ordinal));
    }
}
