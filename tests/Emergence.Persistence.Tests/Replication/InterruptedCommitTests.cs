using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A segment is committed by two renames, the file's and then its record's, made durable by one fsync of their
/// directory. A replicator killed before that fsync (or while a segment or its record was still a temporary file) may
/// leave either rename without the other: files the history never counted, which the next start clears, so the
/// generation they were in still audits whole.
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
    public async Task ARecordRenamedBeforeItsSegment_IsClearedAtTheNextStart_AndItsGenerationAuditsWhole()
    {
        Commit(5);
        var first = (await ReplicateBatchesAsync(3))[0].Generation;

        // What a crash before the directory's fsync may leave: the newest record's rename durable, its segment's not.
        var directory = new ReplicationStore(H.BackupDirectory).DirectoryOf(first);
        var newest = Path.Combine(directory, ReplicationStore.SegmentName(3));
        File.Move(newest, newest + ".tmp");
        Assert.False(AuditOf(first).Ok);

        Commit(5);
        using (var session = await OpenAsync())
        {
            Assert.NotEqual(first, session.Generation.Id);
        }

        Assert.False(File.Exists(newest + ReplicationStore.ManifestSuffix));
        Assert.Empty(Directory.EnumerateFiles(directory, "*.tmp"));
        var audit = AuditOf(first);
        Assert.True(audit.Ok, audit.Problem);
        Assert.Equal(2, audit.Proven);
    }

    [Fact]
    public async Task ANewestSegmentLostAfterItsCommit_IsDamage_AndItsRecordStaysToBeNamed()
    {
        Commit(5);
        var first = (await ReplicateBatchesAsync(3))[0].Generation;

        // Gone with no temporary file beside its record: not a commit cut off, but a segment lost after it.
        var directory = new ReplicationStore(H.BackupDirectory).DirectoryOf(first);
        var newest = ReplicationStore.SegmentName(3);
        File.Delete(Path.Combine(directory, newest));

        Commit(5);
        using (await OpenAsync())
        {
        }

        Assert.True(File.Exists(Path.Combine(directory, newest + ReplicationStore.ManifestSuffix)));
        var audit = AuditOf(first);
        Assert.False(audit.Ok);
        Assert.Contains(newest, audit.Problem, StringComparison.Ordinal);
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
