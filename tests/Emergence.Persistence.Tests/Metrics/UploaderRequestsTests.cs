using Azure.Storage.Blobs;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Metrics;

/// <summary>
/// What the history uploader costs in requests, counted by Azurite's own request log: an idle database costs a
/// probe now and then, not listings, and the probe is enough to notice a deleted container and fill it again; a
/// busy one costs one request per file it uploads.
/// </summary>
public sealed class UploaderRequestsTests : IDisposable
{
    private const string Container = "emergence-backups";
    private readonly Azurite _azurite = Azurite.Start(debugLog: true);
    private TestHarness _h = null!;
    private SqliteConnection _writer = null!;
    private int _passes;

    /// <summary>A database with a row, replicated every <paramref name="intervalSeconds"/>, Azurite as its off-volume target.</summary>
    private void Start(int intervalSeconds)
    {
        _h = new TestHarness(
            new Dictionary<string, string?>
            {
                ["Persistence:Offsite:ConnectionString"] = _azurite.ConnectionString,
                ["Persistence:Offsite:Container"] = Container,
                ["Persistence:Replication:IntervalSeconds"] = intervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            configureServices: OffsiteServer.FastRetries);
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL); INSERT INTO rows (pad) VALUES (randomblob(300));");
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _h?.Dispose();
        _azurite.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private void Execute(string sql)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private int LoggedRequests() => _azurite.LoggedRequests().Count;

    /// <summary>
    /// One busy second: a commit, closed into a segment by a poll, the levels merged every 10 s (as the replicator does);
    /// then waits for an upload pass that started after it. False when none ended within <paramref name="polls"/> polls.
    /// </summary>
    private async Task<bool> BusySecondAsync(ReplicationSession session, ReplicationStore store, GenerationManifest generation, int second, int polls = 3000)
    {
        Execute("INSERT INTO rows (pad) VALUES (randomblob(200));");
        var passes = Volatile.Read(ref _passes);
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(session.Poll().Segment);
        if (second % 10 == 0)
        {
            HistoryCompactor.Compact(store, generation, closed: false, NullLogger.Instance, Token);
        }

        return await PassAfterAsync(passes, polls);
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

    /// <summary>Moves the clock one interval at a time until the uploader has finished a pass that left everything off the volume.</summary>
    private async Task NextCaughtUpPassAsync()
    {
        var before = Volatile.Read(ref _passes);
        for (var step = 0; step < 30 && Volatile.Read(ref _passes) == before; step++)
        {
            _h.Time.Advance(TimeSpan.FromSeconds(60));
            await PassAfterAsync(before, polls: 200);
        }

        Assert.True(Volatile.Read(ref _passes) > before, "the uploader did not finish a caught-up pass within 30 intervals");
    }

    [Fact]
    public async Task IdleHour_CostsAtMostTwelveRequests_AndADeletedContainerIsFilledAgainAfterTheNextProbe()
    {
        Start(intervalSeconds: 60);
        var location = _h.Locate();
        using (var session = await ReplicationSession.OpenAsync(location, _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, Token))
        {
            for (var i = 0; i < 3; i++)
            {
                Execute("INSERT INTO rows (pad) VALUES (randomblob(300));");
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                Assert.NotNull(session.Poll().Segment);
            }
        }

        var uploader = _h.Get<HistoryUploader>();
        uploader.CaughtUp += _ => Interlocked.Increment(ref _passes);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var run = uploader.RunAsync(location, cancel.Token);
        try
        {
            // The uploads, and the one retention pass that follows them within 10 minutes, settle first.
            for (var minute = 0; minute < 11; minute++)
            {
                await NextCaughtUpPassAsync();
            }

            var before = LoggedRequests();

            for (var minute = 0; minute < 60; minute++)
            {
                await NextCaughtUpPassAsync();
            }

            var idle = LoggedRequests() - before;
            Assert.InRange(idle, 1, 12);

            // The container goes (an operator's mistake, a lost account): the next probe notices, and the snapshot and
            // the segments go up again, without a new backup or a new commit.
            var container = new BlobServiceClient(_azurite.ConnectionString).GetBlobContainerClient(Container);
            await container.DeleteAsync(cancellationToken: Token);
            var generation = new ReplicationStore(_h.BackupDirectory).Generations(_h.DatabasePath).Single();
            var last = container.GetBlobClient(OffsiteHistory.SegmentBlob(generation.Id, 3));
            var snapshot = container.GetBlobClient(generation.BaseBackup + BackupNaming.ManifestSuffix);
            for (var minute = 0; minute < 12 && !((await container.ExistsAsync(Token)).Value && (await last.ExistsAsync(Token)).Value && (await snapshot.ExistsAsync(Token)).Value); minute++)
            {
                await NextCaughtUpPassAsync();
            }

            Assert.True((await last.ExistsAsync(Token)).Value, "the last segment was not uploaded again within two probe intervals");
            Assert.True((await snapshot.ExistsAsync(Token)).Value, "the snapshot was not uploaded again within two probe intervals");
            Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "OffsiteObjectMissing");
        }
        finally
        {
            await cancel.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task BusyMinutes_CostOneRequestPerUploadedFile()
    {
        Start(intervalSeconds: 1);
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
            // The first uploads (the generation, the snapshot's backup) settle first: until a pass ends with everything
            // off the volume, then 20 s more.
            var settled = 0;
            for (var second = 1; second <= 30; second++)
            {
                settled = await BusySecondAsync(session, store, generation, second, polls: 200) ? settled + 1 : 0;
            }

            Assert.True(settled >= 20, "the uploader had not caught up after 10 busy seconds");

            // What goes off the volume: every segment, and the level files from the minute level up.
            int OffVolume() => store.Files(generation.Id).Count(f => f.Level == 0 || f.Level >= HistoryLevels.FinestOffVolume);
            var filesBefore = OffVolume();
            var before = _azurite.LoggedRequests().Count;
            for (var second = 31; second <= 151; second++)
            {
                Assert.True(await BusySecondAsync(session, store, generation, second), $"the uploader did not finish a pass within 30 s of busy second {second}");
            }

            var requests = _azurite.LoggedRequests().Skip(before).ToList();
            var uploaded = OffVolume() - filesBefore;

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
