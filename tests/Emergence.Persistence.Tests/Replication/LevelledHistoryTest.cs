using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A database whose history is merged into levels, for the tests of the levels: each commit updates a counter and
/// inserts its row, so a restored state is exact when the rows are 1..counter; the counter each poll saw is kept by
/// its time, so a restore to a time can be checked against what the replicator had seen by then.
/// </summary>
public abstract class LevelledHistoryTest : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly SortedDictionary<DateTimeOffset, int> _seen = [];
    private int _k;

    protected TestHarness H { get; } = new();

    protected LevelledHistoryTest()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(H.DatabasePath)!);
        _writer = H.Get<SqliteConnectionFactory>().OpenOrCreate(H.DatabasePath);
        Execute("CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
    }

    public void Dispose()
    {
        _writer.Dispose();
        H.Dispose();
    }

    private void Execute(string sql)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A replicator session over <paramref name="seconds"/> seconds: each second a commit (every seventh second none, so
    /// some periods are quiet), then a poll; the counter each poll saw is kept by its time.
    /// </summary>
    protected async Task<GenerationManifest> ReplicateAsync(int seconds, Action<int>? each = null)
    {
        using var session = await ReplicationSession.OpenAsync(H.Locate(), H.Get<SqliteConnectionFactory>(), H.Get<BackupService>(), H.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);
        _seen[H.Time.GetUtcNow()] = _k;
        for (var second = 1; second <= seconds; second++)
        {
            if (second % 7 != 0)
            {
                _k++;
                Execute($"BEGIN; UPDATE counter SET k = {_k}; INSERT INTO rows (n, pad) VALUES ({_k}, randomblob(300)); COMMIT;");
            }

            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            _seen[H.Time.GetUtcNow()] = _k;
            each?.Invoke(second);
        }

        return session.Generation;
    }

    /// <summary>The counter the replicator had seen by <paramref name="at"/>.</summary>
    protected int SeenBy(DateTimeOffset at) => _seen.Where(p => p.Key <= at).Select(p => p.Value).DefaultIfEmpty(-1).Last();

    protected RestoreResult RestoreTo(DateTimeOffset? target) =>
        H.WithVolumeLock((location, held) => H.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>The restored database read by the sqlite3 CLI: the counter, and whether the rows are exactly 1..counter.</summary>
    protected (int K, bool Exact) ReadBack()
    {
        _writer.Close();
        var k = int.Parse(Sqlite3.Query(H.DatabasePath, "SELECT k FROM counter;"), CultureInfo.InvariantCulture);
        var rows = Sqlite3.Query(H.DatabasePath, "SELECT count(*) || ',' || coalesce(max(n), 0) FROM rows;");
        Assert.Equal("ok", Sqlite3.Query(H.DatabasePath, "PRAGMA integrity_check;"));
        return (k, rows == $"{k},{k}");
    }

    protected ReplicationStore Store => new(H.BackupDirectory);

    protected int Compact(GenerationManifest generation) => HistoryCompactor.Compact(Store, generation, closed: false, NullLogger.Instance, TestContext.Current.CancellationToken).Count;
}
