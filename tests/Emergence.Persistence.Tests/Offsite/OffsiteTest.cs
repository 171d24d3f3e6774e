using Emergence.Persistence.Backups;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Startup;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>Off-volume copies against a real store on loopback, each test for both kinds of target: Azure (Azurite) and S3 (s3rver).</summary>
public abstract class OffsiteTest : IDisposable
{
    protected const string Container = OffsiteServer.Name;

    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    protected OffsiteServer Start(TargetKind kind)
    {
        var server = OffsiteServer.Start(kind);
        _owned.Add(server);
        return server;
    }

    protected TestHarness Harness(OffsiteServer server, Dictionary<string, string?>? extra = null, bool unreachable = false)
    {
        var settings = unreachable ? server.UnreachableSettings() : server.Settings();
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var harness = new TestHarness(settings, configureServices: OffsiteServer.FastRetries);
        _owned.Add(harness);
        return harness;
    }

    protected static Task<OffsiteSyncResult> SyncAsync(TestHarness h, IProgress<OperationProgress>? progress = null) =>
        h.Get<BackupUploader>().SyncAsync(h.Locate(), TimeSpan.FromSeconds(5), progress, Token);

    protected static void WipeVolume(TestHarness h) => Directory.Delete(Path.GetDirectoryName(h.DatabasePath)!, recursive: true);

    protected static async Task<StartupResult> RunStartupAsync(TestHarness h)
    {
        var result = await h.Get<StartupSequence>().RunAsync(Token);
        result.Lock?.Dispose();
        return result;
    }
}
