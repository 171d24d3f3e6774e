using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Every restore gives back a state the database really had, or refuses: each transaction writes two tables (a
/// counter and a numbered row), so a state is exact when the counter equals the rows and the rows are 1..counter;
/// a third table that only some commits touch shows a hole a replay stitched over.
/// </summary>
public abstract class ExactRestoreTest : IDisposable
{
    protected TestHarness H { get; } = new();

    protected SqliteConnection Writer { get; }

    private int _k;

    protected ExactRestoreTest()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(H.DatabasePath)!);
        Writer = H.Get<SqliteConnectionFactory>().OpenOrCreate(H.DatabasePath);
        Execute("CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL); CREATE TABLE side (v INTEGER NOT NULL); INSERT INTO side VALUES (0);");
    }

    public void Dispose()
    {
        Writer.Dispose();
        H.Dispose();
    }

    protected void Execute(string sql)
    {
        using var command = Writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Commits <paramref name="count"/> transactions, each updating the counter and inserting its row.</summary>
    protected void Commit(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _k++;
            Execute($"BEGIN; UPDATE counter SET k = {_k}; INSERT INTO rows (n, pad) VALUES ({_k}, randomblob(300)); COMMIT;");
        }
    }

    protected Task<ReplicationSession> OpenAsync(TimeProvider? clock = null, BackupService? backups = null) =>
        ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), backups ?? H.Get<BackupService>(), clock ?? H.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);

    /// <summary>One replicator session: <paramref name="batches"/> times ten commits, a second, a poll; returns the segments written.</summary>
    protected async Task<List<SegmentManifest>> ReplicateBatchesAsync(int batches)
    {
        var written = new List<SegmentManifest>();
        using var session = await OpenAsync();
        for (var batch = 0; batch < batches; batch++)
        {
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            written.Add(session.Poll().Segment!);
        }

        return written;
    }

    protected RestoreResult RestoreTo(DateTimeOffset? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>The restored database read by the sqlite3 CLI: the counter, whether the rows are exactly 1..counter, the side value, integrity.</summary>
    protected (int K, bool Exact, int Side, string Integrity) ReadBack()
    {
        Writer.Close();
        var k = int.Parse(Sqlite3.Query(H.DatabasePath, "SELECT k FROM counter;"), System.Globalization.CultureInfo.InvariantCulture);
        var rows = Sqlite3.Query(H.DatabasePath, "SELECT count(*) || ',' || coalesce(max(n), 0) FROM rows;");
        var side = int.Parse(Sqlite3.Query(H.DatabasePath, "SELECT v FROM side;"), System.Globalization.CultureInfo.InvariantCulture);
        return (k, rows == $"{k},{k}", side, Sqlite3.Query(H.DatabasePath, "PRAGMA integrity_check;"));
    }

    protected BackupService BackupsOn(TimeProvider clock) => new(
        H.Get<SqliteConnectionFactory>(), H.Get<IOptions<PersistenceOptions>>(), H.Get<BackupActivity>(), H.Get<IntegrityRecord>(), clock, NullLogger<BackupService>.Instance);

    /// <summary>A wall clock the test sets, forwards or back.</summary>
    protected sealed class SteppingClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
