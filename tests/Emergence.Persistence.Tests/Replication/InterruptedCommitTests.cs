using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A segment is committed in two steps: the file renamed into place, then its record written. A replicator killed
/// between them (or while a segment or its record was still a temporary file) leaves files the history never counted;
/// the next start clears them, so the generation they were in still audits whole.
/// </summary>
public sealed class InterruptedCommitTests : ExactRestoreTest
{
    private HistoryAudit.GenerationAudit AuditOf(string generation) =>
        H.Get<HistoryAudit>().Run(H.Locate(), TestContext.Current.CancellationToken).Single(a => a.Generation == generation);

    [Fact]
    public async Task ASegmentRenamedWithoutItsRecord_IsClearedAtTheNextStart_AndItsGenerationAuditsWhole()
    {
        Commit(5);
        var first = (await ReplicateBatchesAsync(3))[0].Generation;

        // What a kill leaves: the newest segment in place without its record, and the next one's temporary file.
        var store = new ReplicationStore(H.BackupDirectory);
        var directory = store.DirectoryOf(first);
        var newest = ReplicationStore.SegmentName(3);
        File.Delete(Path.Combine(directory, newest + ReplicationStore.ManifestSuffix));
        File.WriteAllBytes(Path.Combine(directory, ReplicationStore.SegmentName(4) + ".tmp"), new byte[4096]);
        Assert.False(AuditOf(first).Ok);

        Commit(5);
        using (var session = await OpenAsync())
        {
            Assert.NotEqual(first, session.Generation.Id); // the killed segment's commits were never in the history: a new generation
        }

        Assert.False(File.Exists(Path.Combine(directory, newest)));
        Assert.Empty(Directory.EnumerateFiles(directory, "*.tmp"));
        var audit = AuditOf(first);
        Assert.True(audit.Ok, audit.Problem);
        Assert.Equal(2, audit.Proven);
    }

    [Fact]
    public async Task ANewestRecordThatCannotBeRead_IsDamage_AndStaysToBeNamed()
    {
        Commit(5);
        var first = (await ReplicateBatchesAsync(2))[0].Generation;

        var directory = new ReplicationStore(H.BackupDirectory).DirectoryOf(first);
        var newest = ReplicationStore.SegmentName(2);
        File.WriteAllText(Path.Combine(directory, newest + ReplicationStore.ManifestSuffix), "{ not json");

        Commit(5);
        using (await OpenAsync())
        {
        }

        Assert.True(File.Exists(Path.Combine(directory, newest)));
        var audit = AuditOf(first);
        Assert.False(audit.Ok);
        Assert.Contains(newest, audit.Problem, StringComparison.Ordinal);
    }
}
