using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 1: the first deploy onto an empty volume.</summary>
public sealed class FirstDeployTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task EmptyVolume_GoesLiveWithAMigratedDatabaseAndAVerifiedBackup()
    {
        var volume = NewVolume();
        var app = Deploy(volume);

        var check = await app.DeployedAsync();

        // The healthcheck passed within railway.toml's timeout, on the port Railway gave (start.sh: PORT → listen address).
        Assert.True(check.Elapsed < RailwayDeploy.HealthcheckTimeout, check.ToString());
        var report = Json(check.LastBody);
        Assert.Equal("healthy", report.GetProperty("status").GetString());
        foreach (var field in new[] { "status", "checked_at", "volume", "database", "backups", "problems" })
        {
            Assert.True(report.TryGetProperty(field, out _), $"health lacks {field}: {check.LastBody}");
        }

        var volumeReport = report.GetProperty("volume");
        Assert.True(volumeReport.GetProperty("mounted").GetBoolean());
        Assert.Equal("/app/data", volumeReport.GetProperty("path").GetString());
        Assert.Equal("/app/data", volumeReport.GetProperty("mount_point").GetString());
        Assert.Equal("/app/data", volumeReport.GetProperty("expected_mount_path").GetString());
        Assert.Equal("ext4", volumeReport.GetProperty("filesystem").GetString());
        var database = report.GetProperty("database");
        Assert.Equal(DatabasePath, database.GetProperty("path").GetString());
        Assert.True(database.GetProperty("on_volume").GetBoolean());
        Assert.False(database.GetProperty("fallback").GetBoolean());
        Assert.Equal(0, report.GetProperty("problems").GetArrayLength());

        // The sqlite3 shell, inside the container, reads a migrated database on the volume.
        Assert.Equal("ext4 /app/data", app.ExecChecked("findmnt", "--noheadings", "--raw", "--output", "FSTYPE,TARGET", "--target", DatabasePath).Trim());
        Assert.Equal("1", Sqlite(app, DatabasePath, "PRAGMA user_version;"));
        Assert.Equal("wal", Sqlite(app, DatabasePath, "PRAGMA journal_mode;"));
        Assert.Equal("ok", Sqlite(app, DatabasePath, "PRAGMA integrity_check;"));

        // A first verified backup: its manifest's checksum is the file's, and it opens cleanly.
        var manifest = Assert.Single(Manifests(app));
        var backup = "/app/data/backups/" + manifest.GetProperty("filename").GetString();
        Assert.Equal(manifest.GetProperty("checksum").GetString(), app.ExecChecked("sha256sum", backup).Split(' ')[0]);
        Assert.Equal("ok", Sqlite(app, backup, "PRAGMA integrity_check;"));
        Assert.Equal("1", Sqlite(app, backup, "PRAGMA user_version;"));

        // The operator's check after a deploy: emergence-db in the container agrees.
        var status = Json(app.ExecChecked("emergence-db", "status", "--json"));
        Assert.Equal("healthy", status.GetProperty("status").GetString());
        Assert.Equal(DatabasePath, status.GetProperty("database").GetProperty("path").GetString());

        // What the startup did is in the host's console, by event name.
        Assert.Single(app.Output.Events("DatabaseCreated"));
        Assert.Single(app.Output.Events("MigrationApplied"));
        Assert.NotEmpty(app.Output.Events("BackupCompleted"));
        Assert.Single(app.Output.Events("StartupCompleted"));
    }
}
