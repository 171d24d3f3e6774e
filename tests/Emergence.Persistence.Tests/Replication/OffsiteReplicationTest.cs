using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Segments copied to a real store on loopback (each test for both kinds: Azurite and s3rver) and restored from it after the volume is wiped, read back with the
/// sqlite3 CLI. The test drives the polls, the uploads and the clock.
/// </summary>
public abstract class OffsiteReplicationTest : IDisposable
{
    protected const string Container = OffsiteServer.Name;

    protected OffsiteServer Server { get; private set; } = null!;

    protected TestHarness H { get; private set; } = null!;

    protected SqliteConnection Writer { get; private set; } = null!;

    protected int Next { get; set; } = 1;

    /// <summary>Starts a store of <paramref name="kind"/> and a database with a table, the store as its off-volume target.</summary>
    protected void Start(TargetKind kind)
    {
        Server = OffsiteServer.Start(kind);
        var settings = Server.Settings();
        settings["Persistence:Offsite:KeepBackups"] = "1";
        H = new TestHarness(settings, configureServices: OffsiteServer.FastRetries);
        Directory.CreateDirectory(Path.GetDirectoryName(H.DatabasePath)!);
        Writer = H.Get<SqliteConnectionFactory>().OpenOrCreate(H.DatabasePath);
        Execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, batch INTEGER NOT NULL, pad BLOB NOT NULL)");
    }

    public void Dispose()
    {
        Writer?.Dispose();
        H?.Dispose();
        Server?.Dispose();
    }

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Damages an object behind the library's back, keeping its metadata (so only the content lies).</summary>
    protected async Task DamageAsync(string key, string damage)
    {
        var bytes = await Server.ReadAsync(key, Token);
        switch (damage)
        {
            case "corrupt":
                bytes[^100] ^= 0x5A; // inside the last frame's page: the transactions before it are whole
                await Server.OverwriteAsync(key, bytes, Token);
                break;
            case "truncate":
                await Server.OverwriteAsync(key, bytes[..^10], Token);
                break;
            default:
                await Server.Objects.DeleteAsync(key, Token);
                break;
        }
    }

    protected void Execute(string sql)
    {
        using var command = Writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected void Commit(int count, int batch)
    {
        for (var i = 0; i < count; i++)
        {
            Execute($"INSERT INTO rows (n, batch, pad) VALUES ({Next++}, {batch}, randomblob(300))");
        }
    }

    /// <summary>Opens a generation and writes one segment per batch of <paramref name="perBatch"/> rows; returns the segments.</summary>
    protected async Task<List<SegmentManifest>> ReplicateAsync(int batches, int perBatch = 10)
    {
        var segments = new List<SegmentManifest>();
        using var session = await ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), H.Get<BackupService>(), H.Time, NullLogger.Instance, 64L << 20, null, Token);
        for (var batch = 1; batch <= batches; batch++)
        {
            Commit(perBatch, batch);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            segments.Add(session.Poll().Segment!);
        }

        return segments;
    }

    protected Task<bool> UploadAsync() => H.Get<HistoryUploader>().SyncAsync(H.Locate(), Token);

    protected void WipeVolume()
    {
        Writer.Close();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(H.DatabasePath)!, recursive: true);
    }

    protected Task<RestoreResult> RestoreOffsiteAsync(DateTimeOffset? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreOffsiteToTimeAsync(location, held, H.Get<OffsiteConnector>().For(location)!, target, force: true, "test", cancellationToken: Token));

    /// <summary>The row count, whether rows are exactly 1..count, and integrity, read by the sqlite3 CLI.</summary>
    protected (int Count, bool Prefix, string Integrity) ReadBack()
    {
        Writer.Close();
        var count = int.Parse(Sqlite3.Query(H.DatabasePath, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        var max = Sqlite3.Query(H.DatabasePath, "SELECT coalesce(max(n), 0) FROM rows;");
        return (count, max == count.ToString(CultureInfo.InvariantCulture), Sqlite3.Query(H.DatabasePath, "PRAGMA integrity_check;"));
    }

    protected async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            // The uploader waits on the fake clock between attempts.
            H.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, Token);
        }

        Assert.True(condition(), "the condition did not hold within 10 s");
    }
}
