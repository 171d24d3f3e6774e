using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Metrics;

/// <summary>
/// What the history uploader costs in requests while the database is busy, counted by Azurite's own request log: every
/// segment and level file goes up in one request, with no listing and no second request to read it back.
/// </summary>
public sealed class BusyRequestsTests : IDisposable
{
    private const string Container = "emergence-backups";
    private readonly Azurite _azurite = Azurite.Start(debugLog: true);
    private readonly TestHarness _h;
    private readonly SqliteConnection _writer;
    private int _passes;

    public BusyRequestsTests()
    {
        _h = new TestHarness(
            new Dictionary<string, string?>
            {
                ["Persistence:Offsite:ConnectionString"] = _azurite.ConnectionString,
                ["Persistence:Offsite:Container"] = Container,
            },
            configureServices: OffsiteServer.FastRetries);
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Insert("CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
    }

    public void Dispose()
    {
        _writer.Dispose();
        _h.Dispose();
        _azurite.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private void Insert(string sql = "INSERT INTO rows (pad) VALUES (randomblob(200));")
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Waits (polling, generously) for the uploader to finish a pass that started after <paramref name="before"/> passes.</summary>
    private async Task<bool> PassAfterAsync(int before, int polls = 3000)
    {
        for (var poll = 0; poll < polls && Volatile.Read(ref _passes) <= before; poll++)
        {
            await Task.Delay(10, Token);
        }

        return Volatile.Read(ref _passes) > before;
    }

    [Fact]
    public async Task BusyMinutes_CostOneRequestPerUploadedFile()
    {
        var location = _h.Locate();
        var store = new ReplicationStore(_h.BackupDirectory);
        using var session = await ReplicationSession.OpenAsync(location, _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, Token);
        var generation = store.Generations(_h.DatabasePath).Single();
        var uploader = _h.Get<HistoryUploader>();
        uploader.CaughtUp += _ => Interlocked.Increment(ref _passes);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var run = uploader.RunAsync(location, cancel.Token);
        try
        {
            // A commit a second, each second's commits closed into a segment, the levels merged every 10 s (as the
            // replicator does), and an upload pass every interval.
            async Task<bool> BusySecondAsync(int second, int polls = 3000)
            {
                Insert();
                var passes = Volatile.Read(ref _passes);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                Assert.NotNull(session.Poll().Segment);
                if (second % 10 == 0)
                {
                    HistoryCompactor.Compact(store, generation, closed: false, NullLogger.Instance, Token);
                }

                return await PassAfterAsync(passes, polls);
            }

            // The first uploads (the generation, the snapshot's backup) settle first: until a pass ends with everything
            // off the volume, then 20 s more.
            var settled = 0;
            for (var second = 1; second <= 30; second++)
            {
                settled = await BusySecondAsync(second, polls: 200) ? settled + 1 : 0;
            }

            Assert.True(settled >= 20, "the uploader had not caught up after 10 busy seconds");

            var filesBefore = store.Files(generation.Id).Count;
            var before = _azurite.LoggedRequests().Count;
            for (var second = 31; second <= 151; second++)
            {
                Assert.True(await BusySecondAsync(second), $"the uploader did not finish a pass within 30 s of busy second {second}");
            }

            var requests = _azurite.LoggedRequests().Skip(before).ToList();
            var uploaded = store.Files(generation.Id).Count - filesBefore;

            Assert.True(uploaded >= 120, $"only {uploaded} files were written in 121 busy seconds");
            var puts = requests.Count(m => m == "PUT");
            Assert.InRange(puts, uploaded - 2, uploaded + 2);
            Assert.True(requests.Count <= puts + 2, $"{requests.Count} requests for {puts} uploads: {string.Join(", ", requests.Where(m => m != "PUT").GroupBy(m => m).Select(g => $"{g.Count()} {g.Key}"))} besides");
        }
        finally
        {
            await cancel.CancelAsync();
            await run;
        }
    }
}
