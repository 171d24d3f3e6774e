using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Offsite;

/// <summary>
/// The restore drill over the target's newest copy, and what health says of the copies.
/// </summary>
public sealed class OffsiteDrillTests : OffsiteTest
{
    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Drill_VerifiesTheNewestCopy_AndAFailedDrillMakesHealthDegraded(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        await RunStartupAsync(h);
        h.AddNotes(100);
        var manifest = await h.BackupAsync();
        await SyncAsync(h);

        var passed = await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token);

        Assert.True(passed!.Ok, passed.Problem);
        Assert.Equal(manifest.Filename, passed.Backup);
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "emergence-drill-*"), d => File.Exists(Path.Combine(d, manifest.Filename)));
        var report = h.Get<HealthReporter>().Check(h.Locate());
        Assert.True(report.Backups.Offsite!.Drill!.Ok);
        Assert.Equal(HealthStatus.Healthy, report.Status);

        var bytes = await server.ReadAsync(manifest.Filename, Token);
        bytes[^100] ^= 0x01;
        await server.OverwriteAsync(manifest.Filename, bytes, Token);

        var failed = await h.Get<RestoreDrill>().RunAsync(h.Locate(), cancellationToken: Token);

        Assert.False(failed!.Ok);
        Assert.Contains("SHA-256", failed.Problem, StringComparison.Ordinal);
        var degraded = h.Get<HealthReporter>().Check(h.Locate());
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains(degraded.Problems, p => p.StartsWith("The last restore drill", StringComparison.Ordinal));
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "RestoreDrillFailed" && r.Level == LogLevel.Error);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Health_NothingCopiedYet_SaysSo(TargetKind kind)
    {
        var server = Start(kind);
        var h = Harness(server);
        await RunStartupAsync(h);

        var report = h.Get<HealthReporter>().Check(h.Locate());

        Assert.Equal(Container, report.Backups.Offsite!.Container);
        Assert.Contains(report.Problems, p => p.StartsWith(kind == TargetKind.Azure ? "No backup has been copied to the off-volume container" : "No backup has been copied to the off-volume bucket", StringComparison.Ordinal));
    }
}
