using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// Listing with metadata from an S3 store (s3rver), counted by the request metric: S3 lists no metadata, so each
/// object's head is read, but only once per store for an object it has not read or written under the same ETag.
/// </summary>
public sealed class S3ListingTests : IDisposable
{
    private readonly OffsiteServer _server = OffsiteServer.Start(TargetKind.S3);
    private readonly TestHarness _h;

    public S3ListingTests()
    {
        _h = new TestHarness(_server.Settings());
    }

    public void Dispose()
    {
        _h.Dispose();
        _server.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private IObjectStore NewStore() => _h.Get<OffsiteConnector>().Targets(_h.Locate()).Single().Objects;

    [Fact]
    public async Task ListingWithMetadata_ReadsEachHeadOnce_AndNoneForWhatTheStoreWrote_ButARewriteIsReadAgain()
    {
        using var requests = new MetricCollector<long>(_h.Get<IMeterFactory>(), PersistenceMetrics.MeterName, "emergence.offsite.requests");
        int Heads() => requests.GetMeasurementSnapshot().Where(m => (string?)m.Tags["operation"] == "head_object").Sum(m => (int)m.Value);
        var writer = NewStore();
        for (var i = 0; i < 12; i++)
        {
            Assert.True(await writer.PutAsync($"history/f{i:D2}", Encoding.UTF8.GetBytes($"file {i}"), new Dictionary<string, string> { ["n"] = i.ToString(CultureInfo.InvariantCulture) }, createOnly: true, Token));
        }

        var listed = await writer.ListAsync("history/", withMetadata: true, Token);
        Assert.Equal(12, listed.Count);
        Assert.All(listed, o => Assert.Equal(int.Parse(o.Key[^2..], CultureInfo.InvariantCulture), int.Parse(o.Metadata["n"], CultureInfo.InvariantCulture)));
        Assert.Equal(0, Heads());

        // Another process (a restore, the next start) reads each head once, then no more.
        var reader = NewStore();
        Assert.Equal(12, (await reader.ListAsync("history/", withMetadata: true, Token)).Count);
        Assert.Equal(12, Heads());
        Assert.Equal(12, (await reader.ListAsync("history/", withMetadata: true, Token)).Count);
        Assert.Equal(12, Heads());

        // Rewritten behind its back with other content: a new ETag, so its head is read again.
        await _server.OverwriteAsync("history/f03", Encoding.UTF8.GetBytes("changed"), Token);
        var again = await reader.ListAsync("history/", withMetadata: true, Token);
        Assert.Equal(13, Heads());
        Assert.Equal("changed".Length, again.Single(o => o.Key == "history/f03").Size);
    }
}
