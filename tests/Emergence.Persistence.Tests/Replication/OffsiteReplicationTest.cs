using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Segments copied to a real store on loopback (each test for both kinds: Azurite and s3rver) and restored from it after the volume is wiped, read back with the
/// sqlite3 CLI. The test drives the polls, the uploads and the clock.
/// </summary>
public abstract class OffsiteReplicationTest : IDisposable
{
    protected const string Container = OffsiteServer.Name;

    protected OffsiteServer Server { get; private set; } = null!;

    private RowsDatabase _db = null!;

    protected TestHarness H => _db.H;

    protected SqliteConnection Writer => _db.Writer;

    protected int Next { get => _db.Next; set => _db.Next = value; }

    /// <summary>Starts a store of <paramref name="kind"/> and a database with a table, the store as its off-volume target.</summary>
    protected void Start(TargetKind kind)
    {
        Server = OffsiteServer.Start(kind);
        var settings = Server.Settings();
        settings["Persistence:Offsite:KeepBackups"] = "1";
        _db = new RowsDatabase(settings, OffsiteServer.FastRetries);
    }

    public void Dispose()
    {
        _db?.Dispose();
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

    protected void Execute(string sql) => RowsDatabase.Execute(Writer, sql);

    protected void Commit(int count, int batch) => _db.Commit(count, batch);

    /// <summary>Opens a generation and writes one segment per batch of <paramref name="perBatch"/> rows; returns the segments.</summary>
    protected Task<List<SegmentManifest>> ReplicateAsync(int batches, int perBatch = 10) => _db.ReplicateAsync(batches, perBatch);

    protected Task<bool> UploadAsync() => H.Get<HistoryUploader>().SyncAsync(H.Locate(), Token);

    protected void WipeVolume() => _db.WipeVolume();

    protected Task<RestoreResult> RestoreOffsiteAsync(DateTimeOffset? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreOffsiteToTimeAsync(location, held, H.Get<OffsiteConnector>().For(location)!, target, force: true, "test", cancellationToken: Token));

    /// <summary>The row count, whether rows are exactly 1..count, and integrity, read by the sqlite3 CLI.</summary>
    protected (int Count, bool Prefix, string Integrity) ReadBack() => _db.ReadBack();

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
