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
/// probe now and then, not listings, and the probe is enough to notice a deleted container and fill it again.
/// </summary>
public sealed class IdleRequestsTests : IDisposable
{
    private const string Container = "emergence-backups";
    private readonly Azurite _azurite = Azurite.Start(debugLog: true);
    private readonly TestHarness _h;
    private readonly SqliteConnection _writer;
    private int _passes;

    public IdleRequestsTests()
    {
        _h = new TestHarness(
            new Dictionary<string, string?>
            {
                ["Persistence:Offsite:ConnectionString"] = _azurite.ConnectionString,
                ["Persistence:Offsite:Container"] = Container,
                ["Persistence:Replication:IntervalSeconds"] = "60",
            },
            configureServices: OffsiteServer.FastRetries);
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        using var command = _writer.CreateCommand();
        command.CommandText = "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL); INSERT INTO rows (pad) VALUES (randomblob(300));";
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _h.Dispose();
        _azurite.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private int LoggedRequests() => _azurite.LoggedRequests().Count;

    /// <summary>Moves the clock one interval at a time until the uploader has finished a pass that left everything off the volume.</summary>
    private async Task NextCaughtUpPassAsync()
    {
        var before = Volatile.Read(ref _passes);
        for (var step = 0; step < 30 && Volatile.Read(ref _passes) == before; step++)
        {
            _h.Time.Advance(TimeSpan.FromSeconds(60));
            for (var poll = 0; poll < 100 && Volatile.Read(ref _passes) == before; poll++)
            {
                await Task.Delay(20, Token);
            }
        }

        Assert.True(Volatile.Read(ref _passes) > before, "the uploader did not finish a caught-up pass within 30 intervals");
    }

    [Fact]
    public async Task IdleHour_CostsAtMostTwelveRequests_AndADeletedContainerIsFilledAgainAfterTheNextProbe()
    {
        var location = _h.Locate();
        using (var session = await ReplicationSession.OpenAsync(location, _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, Token))
        {
            for (var i = 0; i < 3; i++)
            {
                using var command = _writer.CreateCommand();
                command.CommandText = "INSERT INTO rows (pad) VALUES (randomblob(300));";
                command.ExecuteNonQuery();
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
}
