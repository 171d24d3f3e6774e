using Emergence.Functions.HostTests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>
/// Replication under the real host: commits made after every backup reach a segment within seconds, health
/// reports it, and when the database is then destroyed between deploys the next container brings those
/// commits back from the segments (no backup holds them); with a container configured, the segments go off the
/// volume too, and a deploy onto a new, empty volume brings the same commits back from the container.
/// </summary>
public sealed class ReplicationTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task CommitsAfterTheLastBackup_SurviveACorruptDatabaseThroughTheSegments()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        var backupsBefore = Manifests(first).Count;

        // Written after every backup the first container takes: only the segments can hold these rows.
        Sqlite(first, DatabasePath, "CREATE TABLE replicated_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO replicated_rows (note) SELECT 'row ' || value FROM generate_series(1, 250);");
        await Task.Delay(TimeSpan.FromSeconds(7), TestContext.Current.CancellationToken); // two intervals and more than the health cache's 5 s
        var health = Json((await first.HealthcheckAsync(TimeSpan.FromSeconds(10))).LastBody);
        var replication = health.GetProperty("backups").GetProperty("replication");
        Assert.False(string.IsNullOrEmpty(replication.GetProperty("generation").GetString()), health.ToString());
        Assert.InRange(replication.GetProperty("lag_seconds").GetInt64(), 0, 5);
        Assert.False(string.IsNullOrEmpty(replication.GetProperty("last_segment").GetString()));
        Assert.Equal(backupsBefore, Manifests(first).Count);
        Assert.NotEmpty(first.Output.Events("ReplicationGenerationStarted"));
        Assert.True(await first.StopAsync());

        Shell(volume, "sh", "-c", $"dd if=/dev/urandom of={DatabasePath} bs=100 count=1 conv=notrunc 2>/dev/null && rm -f {DatabasePath}-wal {DatabasePath}-shm");

        var second = Deploy(volume);
        await second.DeployedAsync();

        Assert.Equal("250", Sqlite(second, DatabasePath, "SELECT count(*) FROM replicated_rows;"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        var restored = Assert.Single(second.Output.Events("RestorePerformed"));
        Assert.Contains("replayed to", restored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitsAfterTheLastBackup_SurviveLosingTheVolumeThroughTheContainer()
    {
        using var azurite = Azurite.Start();
        var offsite = new Dictionary<string, string?>
        {
            ["Persistence__Offsite__ConnectionString"] = azurite.ConnectionString,
            ["Persistence__Offsite__Container"] = "rehearsal",
        };
        var first = Deploy(NewVolume(), offsite);
        await first.DeployedAsync();

        // Written after every backup the first container takes: only the segments in the container can hold these rows.
        Sqlite(first, DatabasePath, "CREATE TABLE replicated_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO replicated_rows (note) SELECT 'row ' || value FROM generate_series(1, 250);");
        await first.Output.WaitForEventAsync("GenerationUploaded", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(8), TestContext.Current.CancellationToken); // a few intervals and more than the health cache's 5 s
        var health = Json((await first.HealthcheckAsync(TimeSpan.FromSeconds(10))).LastBody);
        var replication = health.GetProperty("backups").GetProperty("replication");
        Assert.InRange(replication.GetProperty("offsite_lag_seconds").GetInt64(), 0, 5);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, replication.GetProperty("offsite_last_error").ValueKind);
        Assert.True(await first.StopAsync());

        // The volume is gone: the next deploy mounts a new, empty one.
        var second = Deploy(NewVolume(), offsite);
        await second.DeployedAsync();

        Assert.Equal("250", Sqlite(second, DatabasePath, "SELECT count(*) FROM replicated_rows;"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        var restored = Assert.Single(second.Output.Events("RestorePerformed"));
        Assert.Contains("off-volume container rehearsal", restored, StringComparison.Ordinal);
        Assert.Contains("replayed to", restored, StringComparison.Ordinal);
    }
}
