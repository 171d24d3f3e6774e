using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// What proves the history and what is told of it: the audit of every segment's checksum, the restore counters, and
/// health naming a damaged segment and the newest point still provable.
/// </summary>
public sealed class HistoryProofTests : ExactRestoreTest
{
    [Fact]
    public async Task HistoryAudit_ProvesEverySegment_AndNamesTheFirstWhoseChecksumDiffers()
    {
        Commit(5);
        var written = await ReplicateBatchesAsync(3);

        var audit = H.Get<HistoryAudit>();
        var whole = Assert.Single(audit.Run(H.Locate(), TestContext.Current.CancellationToken));
        Assert.True(whole.Ok, whole.Problem);
        Assert.Equal(3, whole.Proven);

        var second = written[1];
        var manifestPath = Path.Combine(new ReplicationStore(H.BackupDirectory).DirectoryOf(second.Generation), second.Filename + ReplicationStore.ManifestSuffix);
        File.WriteAllBytes(manifestPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(second with { EndHash = PageHashes.Format(PageHashes.Parse(second.EndHash)!.Value ^ 1), }, PersistenceJson.Options));
        var damaged = Assert.Single(audit.Run(H.Locate(), TestContext.Current.CancellationToken));

        Assert.False(damaged.Ok);
        Assert.Equal(1, damaged.Proven);
        Assert.Contains(second.Filename, damaged.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restores_CountTheirResultAndEveryProof_AndGenerationsTheirStart()
    {
        using var restores = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(H.Get<System.Diagnostics.Metrics.IMeterFactory>(), Emergence.Persistence.Metrics.PersistenceMetrics.MeterName, "emergence.restores");
        using var proofs = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(H.Get<System.Diagnostics.Metrics.IMeterFactory>(), Emergence.Persistence.Metrics.PersistenceMetrics.MeterName, "emergence.restore.proofs");
        Commit(5);
        await ReplicateBatchesAsync(1);

        H.Time.Advance(TimeSpan.FromSeconds(1));
        RestoreTo(null);
        Assert.Throws<RestoreFailedException>(() => RestoreTo(TestHarness.Start - TimeSpan.FromDays(1)));

        Assert.Equal([("local_point", "ok"), ("local_point", "failed")], restores.GetMeasurementSnapshot().Select(m => ((string)m.Tags["source"]!, (string)m.Tags["result"]!)));
        Assert.Contains(proofs.GetMeasurementSnapshot(), m => (string)m.Tags["result"]! == "passed");
    }

    [Fact]
    public async Task ADamagedSegment_EndsTheWindowThere_AndHealthNamesItAndTheNewestProvablePoint()
    {
        Commit(5);
        var written = await ReplicateBatchesAsync(3);

        var second = written[1];
        File.AppendAllText(Path.Combine(new ReplicationStore(H.BackupDirectory).DirectoryOf(second.Generation), second.Filename), "x");

        var window = Assert.Single(Timeline.Windows(H.BackupDirectory, H.DatabasePath));
        Assert.Equal(1, window.Segments);
        Assert.Equal(written[0].LastCommitAt, window.To);
        Assert.Contains(second.Filename, window.Problem, StringComparison.Ordinal);

        H.Get<Replicator>().Audit(H.Locate());
        var report = H.Get<Emergence.Persistence.Health.HealthReporter>().Check(H.Locate());
        Assert.Equal(Emergence.Persistence.Health.HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("history is damaged", StringComparison.Ordinal) && p.Contains(second.Filename, StringComparison.Ordinal)
            && p.Contains(UtcMillisecondsConverter.Format(written[0].LastCommitAt), StringComparison.Ordinal));
    }
}
