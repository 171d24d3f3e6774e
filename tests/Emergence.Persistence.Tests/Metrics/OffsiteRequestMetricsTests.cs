using System.Diagnostics.Metrics;
using Azure.Storage.Blobs;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Emergence.Persistence.Tests.Metrics;

/// <summary>The off-volume request counters: against a real Azurite that logs every request it receives, and against s3rver.</summary>
public sealed class OffsiteRequestMetricsTests : IDisposable
{
    private const string Container = "emergence-backups";
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private T Own<T>(T owned) where T : IDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    private static int LoggedRequests(Azurite azurite) => azurite.LoggedRequests().Count;

    /// <summary>
    /// The workload whose requests are counted: a backup uploaded, a second one uploaded (the first rotated out of the
    /// target, which keeps one), and a drill that downloads it.
    /// </summary>
    private static async Task UploadRotateAndDrillAsync(TestHarness h)
    {
        h.AddNotes(200);
        await h.BackupAsync();
        Assert.True((await h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token)).Succeeded);
        h.AddNotes(10, "more");
        await h.BackupAsync();
        Assert.True((await h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token)).Succeeded);
        Assert.True((await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token))!.Ok);
    }

    [Fact]
    public async Task Requests_UploadRotateAndDrill_EqualTheRequestsAzuriteLogged()
    {
        var azurite = Own(Azurite.Start(debugLog: true));
        var h = Own(new TestHarness(new Dictionary<string, string?>
        {
            ["Persistence:Offsite:ConnectionString"] = azurite.ConnectionString,
            ["Persistence:Offsite:Container"] = Container,
            ["Persistence:Offsite:KeepBackups"] = "1",
        }));
        using var requests = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.requests");
        using var errors = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.errors");
        await UploadRotateAndDrillAsync(h);

        var counted = requests.GetMeasurementSnapshot().Sum(m => m.Value);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (LoggedRequests(azurite) < counted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Token);
        }

        Assert.Equal(LoggedRequests(azurite), counted);
        Assert.All(requests.GetMeasurementSnapshot(), m => Assert.Equal(PersistenceMetrics.AzureTarget(Container), m.Tags["target"]));
        var operations = requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["operation"]!).ToHashSet();
        Assert.Superset(new HashSet<string> { "list", "create_container", "put_block", "put_block_list", "put_blob", "get_blob", "delete_blob" }, operations);
        Assert.Empty(errors.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Requests_ServiceDown_CountAsErrorsOfTheirOperation()
    {
        var azurite = Own(Azurite.Start());
        var h = Own(new TestHarness(new Dictionary<string, string?>
        {
            ["Persistence:Offsite:ConnectionString"] = azurite.ConnectionString,
            ["Persistence:Offsite:Container"] = Container,
        }, configureServices: services => services.Configure<BlobClientOptions>(OffsiteConnector.ClientName, options => options.Retry.MaxRetries = 0)));
        using var errors = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.errors");
        h.AddNotes(10);
        await h.BackupAsync();
        azurite.Kill();

        var result = await h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);

        Assert.False(result.Succeeded);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal("get_container_properties", error.Tags["operation"]); // a run's first request, refused
    }

    [Fact]
    public async Task S3Requests_UploadRotateAndDrill_AreCountedByOperation_AsS3Target()
    {
        var server = Own(OffsiteServer.Start(TargetKind.S3));
        var settings = server.Settings();
        settings["Persistence:Offsite:KeepBackups"] = "1";
        var h = Own(new TestHarness(settings));
        using var requests = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.requests");
        using var errors = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.errors");
        using var sent = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.sent");
        await UploadRotateAndDrillAsync(h);

        Assert.All(requests.GetMeasurementSnapshot(), m => Assert.Equal(PersistenceMetrics.S3Target(OffsiteServer.Name), m.Tags["target"]));
        var operations = requests.GetMeasurementSnapshot().Select(m => (string)m.Tags["operation"]!).ToHashSet();
        Assert.Superset(new HashSet<string> { "list", "create_multipart_upload", "upload_part", "complete_multipart_upload", "put_object", "head_object", "get_object", "delete_object" }, operations);
        var backup = new FileInfo(Directory.GetFiles(h.BackupDirectory, "*.sqlite*").Where(f => !f.EndsWith(".json", StringComparison.Ordinal)).Order().Last());
        Assert.True(sent.GetMeasurementSnapshot().Sum(m => m.Value) >= backup.Length, "the bytes of the backup sent were not counted");
        Assert.Empty(errors.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task S3Requests_ServiceDown_CountAsErrors()
    {
        var server = Own(OffsiteServer.Start(TargetKind.S3));
        var h = Own(new TestHarness(server.Settings(), configureServices: OffsiteServer.FastRetries));
        using var errors = new MetricCollector<long>(h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.errors");
        h.AddNotes(10);
        await h.BackupAsync();
        server.Kill();

        var result = await h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);

        Assert.False(result.Succeeded);
        Assert.NotEmpty(errors.GetMeasurementSnapshot());
        Assert.All(errors.GetMeasurementSnapshot(), m => Assert.Equal(PersistenceMetrics.S3Target(OffsiteServer.Name), m.Tags["target"]));
    }

    [Theory]
    [InlineData("GET", "?list-type=2&prefix=x", "list")]
    [InlineData("PUT", "", "put_object")]
    [InlineData("PUT", "?partNumber=2&uploadId=u", "upload_part")]
    [InlineData("POST", "?uploads", "create_multipart_upload")]
    [InlineData("POST", "?uploadId=u", "complete_multipart_upload")]
    [InlineData("DELETE", "?uploadId=u", "abort_multipart_upload")]
    [InlineData("POST", "?delete", "delete_objects")]
    [InlineData("GET", "", "get_object")]
    [InlineData("HEAD", "", "head_object")]
    [InlineData("DELETE", "", "delete_object")]
    public void S3Operation_MethodAndQuery_NamesTheOperation(string method, string query, string expected)
    {
        Assert.Equal(expected, S3RequestCounter.Operation(method, query));
    }

    [Theory]
    [InlineData("backups", null, "azure:backups")]
    [InlineData(null, "bucket/app", "s3:bucket/app")]
    [InlineData("backups", "bucket", "azure:backups+s3:bucket")]
    [InlineData(null, null, null)]
    public void Targets_NameEachConfiguredTarget(string? container, string? bucket, string? expected)
    {
        Assert.Equal(expected, PersistenceMetrics.Targets(container, bucket));
    }

    [Theory]
    [InlineData("GET", "?restype=container&comp=list&prefix=x", "list")]
    [InlineData("PUT", "?restype=container", "create_container")]
    [InlineData("PUT", "?comp=block&blockid=AAA", "put_block")]
    [InlineData("PUT", "?comp=blocklist", "put_block_list")]
    [InlineData("PUT", "", "put_blob")]
    [InlineData("GET", "", "get_blob")]
    [InlineData("HEAD", "", "get_properties")]
    [InlineData("DELETE", "", "delete_blob")]
    [InlineData("PUT", "?comp=lease", "put_lease")]
    public void Operation_MethodAndQuery_NamesTheBlobOperation(string method, string query, string expected)
    {
        Assert.Equal(expected, OffsiteRequestPolicy.Operation(method, query));
    }
}
