using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>
/// Replication's own hostile states: special files in a segment's place, two databases sharing one backup
/// directory, a database not in WAL mode, a trickle of commits after the log grew large, and a backup directory
/// of its own that cannot be written. Each transaction updates a counter and inserts its row, so a restored state
/// is exact when the counter equals the rows.
/// </summary>
public sealed class ReplicationHostileTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TestHarness _h = new();
    private readonly SqliteConnection _writer;
    private int _k;

    public ReplicationHostileTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute(_writer, "CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
    }

    public void Dispose()
    {
        _writer.Dispose();
        _h.Dispose();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Commit(int count, int pad = 300)
    {
        for (var i = 0; i < count; i++)
        {
            _k++;
            Execute(_writer, $"BEGIN; UPDATE counter SET k = {_k}; INSERT INTO rows (n, pad) VALUES ({_k}, randomblob({pad})); COMMIT;");
        }
    }

    private static Task<ReplicationSession> OpenAsync(TestHarness h, long checkpointBytes = 64L << 20) =>
        ReplicationSession.OpenAsync(h.Locate(), h.Get<SqliteConnectionFactory>(), h.Get<BackupService>(), h.Time, NullLogger.Instance, checkpointBytes, null, TestContext.Current.CancellationToken);

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds or <see cref="Bound"/> passes.</summary>
    private static Task Eventually(Func<bool> condition, string what) => Polling.Until(condition, what, Bound);

    private (int K, int Rows) ReadBack()
    {
        _writer.Close();
        var k = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT k FROM counter;"), System.Globalization.CultureInfo.InvariantCulture);
        var rows = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM rows;"), System.Globalization.CultureInfo.InvariantCulture);
        return (k, rows);
    }

    [Fact]
    public async Task ASegmentBeingFilledWhenTheVolumeFills_IsDroppedAsTheSessionEnds_WithoutAnErrorThatWouldStopTheReplicator()
    {
        var root = Directory.CreateTempSubdirectory("emergence-full-").FullName;
        var data = Path.Combine(root, "data");
        try
        {
            using var volume = new TmpfsMount(data, "8m");
            using var h = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = Path.Combine(data, "database.sqlite") }, root: root);
            using var writer = h.Get<SqliteConnectionFactory>().OpenOrCreate(h.DatabasePath);
            Execute(writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
            var session = await OpenAsync(h);
            for (var i = 0; i < 20; i++)
            {
                Execute(writer, "INSERT INTO rows (pad) VALUES (randomblob(300));");
            }

            session.Tail(); // copied into the segment being filled, still in the stream's and the file's buffers
            var directory = new ReplicationStore(h.BackupDirectory).DirectoryOf(session.Generation.Id);
            Assert.Single(Directory.EnumerateFiles(directory, "*.tmp"));
            Fill(data);

            // The replicator's loop disposes its session in a finally: an error here would end the loop.
            session.Dispose();

            Assert.Empty(Directory.EnumerateFiles(directory, "*.tmp"));
        }
        finally
        {
            Shell.Run("umount", "-l", data);
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Writes a file on the volume at <paramref name="path"/> until the volume is full.</summary>
    private static void Fill(string path)
    {
        using var filler = new FileStream(Path.Combine(path, "filler"), FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var size in new[] { 1 << 20, 4096, 1 })
        {
            try
            {
                var block = new byte[size];
                while (true)
                {
                    filler.Write(block);
                }
            }
            catch (IOException)
            {
                // Full at this size: the next, smaller one takes what is left.
            }
        }
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("link to /dev/zero")]
    public async Task ASpecialFileInASegmentsPlace_TheRestoreAnswersWithoutReadingIt_AndNamesTheSegment(string kind)
    {
        Commit(5);
        var written = new List<SegmentManifest>();
        using (var session = await OpenAsync(_h))
        {
            for (var batch = 0; batch < 3; batch++)
            {
                Commit(10);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                written.Add(session.Poll().Segment!);
            }
        }

        var second = written[1];
        var path = Path.Combine(new ReplicationStore(_h.BackupDirectory).DirectoryOf(second.Generation), second.Filename);
        File.Delete(path);
        if (kind == "fifo")
        {
            Assert.Equal(0, Shell.Run("mkfifo", path).Exit);
        }
        else
        {
            File.CreateSymbolicLink(path, "/dev/zero");
        }

        // Bounded generously: a restore that opened the FIFO would wait for a writer forever, and one that read /dev/zero would never reach its end.
        var restored = await Task.Run(() => _h.WithVolumeLock((location, held) =>
            _h.Get<RestoreService>().RestoreToTime(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken))).WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.NotNull(restored.Replay?.Stopped);
        Assert.Contains(second.Filename, restored.Replay.Stopped, StringComparison.Ordinal);
        Assert.Equal(written[0].LastCommitAt, restored.RestoredTo);
        Assert.Equal((15, 15), ReadBack());
    }

    [Fact]
    public async Task TwoDatabasesSharingOneBackupDirectory_EachSeesOnlyItsOwnReplicationState_AndOneNotInWalModeIsNamed()
    {
        // A second database, in rollback-journal mode, whose backups go to the same directory.
        var otherPath = Path.Combine(_h.Root, "other", "other.sqlite");
        Directory.CreateDirectory(Path.GetDirectoryName(otherPath)!);
        Assert.Equal(0, Shell.Run("sqlite3", otherPath, "PRAGMA journal_mode = DELETE; CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);").Exit);
        using var other = new TestHarness(new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = otherPath,
            ["Persistence:BackupDirectory"] = _h.BackupDirectory,
        }, root: Path.Combine(_h.Root, "other-root"));
        Assert.Equal(_h.BackupDirectory, other.BackupDirectory);

        // This database's history: a generation and a segment.
        Commit(5);
        using (var session = await OpenAsync(_h))
        {
            Commit(3);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.NotNull(session.Poll().Segment);
        }

        // The other database's replicator fails: it is not in WAL mode.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var replicating = Task.Run(() => other.Get<Replicator>().RunAsync(other.Locate(), stop.Token), CancellationToken.None);
        try
        {
            await Eventually(() => other.Get<HealthReporter>().Check(other.Locate()).Problems.Any(p => p.Contains("not in WAL mode", StringComparison.Ordinal)), "the other database's health to name the journal mode");
        }
        finally
        {
            await stop.CancelAsync();
            await replicating.WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        var otherReport = other.Get<HealthReporter>().Check(other.Locate());
        Assert.NotEqual(HealthStatus.Healthy, otherReport.Status);
        Assert.Contains(otherReport.Problems, p => p.Contains(otherPath, StringComparison.Ordinal) && p.Contains("not in WAL mode", StringComparison.Ordinal));

        // This database, read by a process of its own (the state on the volume), sees none of the other's.
        using var reader = new TestHarness(new Dictionary<string, string?> { ["Persistence:DatabasePath"] = _h.DatabasePath }, root: Path.Combine(_h.Root, "reader-root"));
        var report = reader.Get<HealthReporter>().Check(reader.Locate());
        Assert.DoesNotContain(report.Problems, p => p.Contains("not in WAL mode", StringComparison.Ordinal) || p.Contains(otherPath, StringComparison.Ordinal));
        Assert.Single(Timeline.Windows(_h.BackupDirectory, _h.DatabasePath));
        Assert.Empty(Timeline.Windows(_h.BackupDirectory, otherPath));
    }

    [Fact]
    public async Task ATrickleOfCommitsAfterTheLogGrewLarge_IsKeptUpWith_WithoutACheckpointAtEveryPoll()
    {
        const long Threshold = 256 << 10;
        Commit(5);
        using var session = await OpenAsync(_h, Threshold);

        // A burst grows the log past the threshold within one poll: that poll checkpoints.
        Commit(400, pad: 2000);
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        var burst = session.Poll();
        Assert.True(burst.Checkpointed);
        Assert.True(burst.LogBytes >= Threshold, $"the -wal is {burst.LogBytes} bytes");

        // Then a trickle: the log restarts from its start, so what is in use falls back under the threshold and
        // the polls stop checkpointing (taking the write lock), although the file keeps its largest size.
        var checkpoints = 0;
        for (var i = 0; i < 30; i++)
        {
            Commit(1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            var poll = session.Poll();
            Assert.NotNull(poll.Segment);
            checkpoints += poll.Checkpointed ? 1 : 0;
        }

        Assert.True(checkpoints <= 1, $"{checkpoints} of 30 polls under a trickle checkpointed");
        Assert.Null(session.Poll().Segment);

        var restored = _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, null, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Null(restored.Replay?.Stopped);
        session.Dispose();
        Assert.Equal((_k, _k), ReadBack());
    }

    [Fact]
    public async Task ABackupDirectoryOfItsOwnRemountedReadOnly_IsNotHealthy_AndTheSentenceNamesIt()
    {
        Privileges.RequireRoot("remount the backup directory's file system read-only");
        var backups = Path.Combine(_h.Root, "own-backups");
        using var mount = new TmpfsMount(backups, "64m");
        using var h = new TestHarness(new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = _h.DatabasePath,
            ["Persistence:BackupDirectory"] = backups,
        }, root: Path.Combine(_h.Root, "ro-root"));
        Commit(5);
        await h.BackupAsync();
        Assert.Equal(HealthStatus.Healthy, h.Get<HealthReporter>().Check(h.Locate()).Status);

        mount.Remount("ro");
        var report = h.Get<HealthReporter>().Check(h.Locate());

        Assert.NotEqual(HealthStatus.Healthy, report.Status);
        Assert.Contains(report.Problems, p => p.Contains($"The backup directory {backups} cannot be written", StringComparison.Ordinal)
            && p.Contains("Read-only", StringComparison.OrdinalIgnoreCase));
        mount.Remount("rw");
    }
}
