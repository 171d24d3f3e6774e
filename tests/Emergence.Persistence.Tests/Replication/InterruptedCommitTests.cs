using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// A segment is committed in two steps: the file renamed into place, then its record written. A replicator killed
/// between them (or while a segment or its record was still a temporary file) leaves files the history never counted;
/// the next start clears them, so the generation they were in still audits whole.
/// </summary>
public sealed class InterruptedCommitTests : IDisposable
{
    private readonly TestHarness _h = new();
    private readonly SqliteConnection _writer;
    private int _next = 1;

    public InterruptedCommitTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
    }

    public void Dispose()
    {
        _writer.Dispose();
        _h.Dispose();
    }

    private void Execute(string sql)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Commit(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Execute($"INSERT INTO rows (n, pad) VALUES ({_next++}, randomblob(300))");
        }
    }

    private Task<ReplicationSession> OpenAsync() =>
        ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);

    private HistoryAudit.GenerationAudit AuditOf(string generation) =>
        _h.Get<HistoryAudit>().Run(_h.Locate(), TestContext.Current.CancellationToken).Single(a => a.Generation == generation);

    [Fact]
    public async Task ASegmentRenamedWithoutItsRecord_IsClearedAtTheNextStart_AndItsGenerationAuditsWhole()
    {
        Commit(5);
        string first;
        using (var session = await OpenAsync())
        {
            first = session.Generation.Id;
            for (var poll = 0; poll < 3; poll++)
            {
                Commit(10);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
            }
        }

        // What a kill leaves: the newest segment in place without its record, and the next one's temporary file.
        var store = new ReplicationStore(_h.BackupDirectory);
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
        string first;
        using (var session = await OpenAsync())
        {
            first = session.Generation.Id;
            for (var poll = 0; poll < 2; poll++)
            {
                Commit(10);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
            }
        }

        var directory = new ReplicationStore(_h.BackupDirectory).DirectoryOf(first);
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
