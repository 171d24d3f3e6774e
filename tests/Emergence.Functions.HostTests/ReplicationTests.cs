using System.Globalization;
using System.Text.Json;
using Emergence.Functions.HostTests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>
/// Replication under the real host: commits made after every backup reach a segment within seconds, health
/// reports it, and when the database is then destroyed between deploys the next container brings those
/// commits back from the segments (no backup holds them); with an off-volume target configured (Azure or S3), the
/// segments go off the volume too, and a deploy onto a new, empty volume brings the same commits back from it.
/// </summary>
public sealed class ReplicationTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    /// <summary>How long the replicator and the uploader get to catch up: many intervals, on a shared machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>The off-volume container (or bucket) of the rehearsal.</summary>
    private const string Container = "rehearsal";

    [Fact]
    public async Task CommitsAfterTheLastBackup_SurviveACorruptDatabaseThroughTheSegments()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        await first.Output.WaitForEventAsync("ReplicationGenerationStarted", TimeSpan.FromSeconds(60));
        var backupsBefore = Manifests(first).Count;

        // Written after every backup the first container takes (its replicator's snapshot included: counted once it was
        // taken): only the segments can hold these rows.
        Sqlite(first, DatabasePath, "CREATE TABLE replicated_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO replicated_rows (note) SELECT 'row ' || value FROM generate_series(1, 250);");
        var written = DateTimeOffset.UtcNow;
        var health = await HealthWhenAsync(first, report => CaughtUpSince(report, "lag_seconds", written), Patience, "health to report the replicator caught up past the rows");
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

    [Theory]
    [InlineData("azure")]
    [InlineData("s3")]
    public async Task CommitsAfterTheLastBackup_SurviveLosingTheVolumeThroughTheContainer(string kind)
    {
        // The same deploy onto a new volume with each kind of target: Azure Blob Storage (Azurite) and an S3 store
        // (s3rver, which checks request signatures), as a Railway Bucket is.
        using IDisposable server = kind == "azure" ? Azurite.Start() : S3rver.Start(Container);
        var offsite = server switch
        {
            Azurite azurite => new Dictionary<string, string?>
            {
                ["Persistence__Offsite__ConnectionString"] = azurite.ConnectionString,
                ["Persistence__Offsite__Container"] = Container,
            },
            S3rver s3 => new Dictionary<string, string?>
            {
                ["Persistence__Offsite__S3__Bucket"] = Container,
                ["Persistence__Offsite__S3__Endpoint"] = s3.Endpoint.ToString(),
                ["Persistence__Offsite__S3__AccessKeyId"] = S3rver.AccessKeyId,
                ["Persistence__Offsite__S3__SecretAccessKey"] = S3rver.SecretAccessKey,
                ["Persistence__Offsite__S3__ForcePathStyle"] = "true",
            },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var first = Deploy(NewVolume(), offsite);
        await first.DeployedAsync();

        // Written after every backup the first container takes (its replicator's snapshot included: the rows wait for it),
        // so only the segments in the container can hold these rows.
        await first.Output.WaitForEventAsync("ReplicationGenerationStarted", TimeSpan.FromSeconds(60));
        Sqlite(first, DatabasePath, "CREATE TABLE replicated_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO replicated_rows (note) SELECT 'row ' || value FROM generate_series(1, 250);");
        var written = DateTimeOffset.UtcNow;
        await first.Output.WaitForEventAsync("GenerationUploaded", TimeSpan.FromSeconds(60));
        await HealthWhenAsync(first, report => CaughtUpSince(report, "lag_seconds", written), Patience, "health to report the replicator caught up past the rows");
        var inSegments = DateTimeOffset.UtcNow; // every segment holding the rows is durable on the volume by now
        var health = await HealthWhenAsync(first, report => CaughtUpSince(report, "offsite_lag_seconds", inSegments), Patience, "health to report an upload pass that started after the rows' segments were written");
        var replication = health.GetProperty("backups").GetProperty("replication");
        Assert.InRange(replication.GetProperty("offsite_lag_seconds").GetInt64(), 0, 5);
        Assert.Equal(JsonValueKind.Null, replication.GetProperty("offsite_last_error").ValueKind);
        Assert.True(await first.StopAsync());

        // The volume is gone: the next deploy mounts a new, empty one.
        var second = Deploy(NewVolume(), offsite);
        await second.DeployedAsync();

        Assert.Equal("250", Sqlite(second, DatabasePath, "SELECT count(*) FROM replicated_rows;"));
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
        var restored = Assert.Single(second.Output.Events("RestorePerformed"));
        Assert.Contains($"off-volume container {Container}", restored, StringComparison.Ordinal);
        Assert.Contains("replayed to", restored, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether the report's replication section says that, as measured by <paramref name="lagField"/>, everything up to
    /// a moment after <paramref name="since"/> is caught up: <c>checked_at</c> less the lag, less two seconds more, as
    /// both are whole seconds and the lag may be measured a moment apart from the stamp. A report from the cache,
    /// taken before, never passes.
    /// </summary>
    private static bool CaughtUpSince(JsonElement report, string lagField, DateTimeOffset since) =>
        report.TryGetProperty("backups", out var backups)
        && backups.TryGetProperty("replication", out var replication)
        && replication.ValueKind == JsonValueKind.Object
        && replication.TryGetProperty(lagField, out var lag) && lag.ValueKind == JsonValueKind.Number
        && report.TryGetProperty("checked_at", out var checkedAt)
        && DateTimeOffset.Parse(checkedAt.GetString()!, CultureInfo.InvariantCulture) - TimeSpan.FromSeconds(lag.GetInt64() + 2) >= since;
}
