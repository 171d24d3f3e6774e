using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Every restore gives back a state the database really had, or refuses: each transaction writes two tables (a
/// counter and a numbered row), so a state is exact when the counter equals the rows and the rows are 1..counter;
/// a third table that only some commits touch shows a hole a replay stitched over.
/// </summary>
public sealed class ExactRestoreTests : IDisposable
{
    private readonly TestHarness _h = new();
    private readonly SqliteConnection _writer;
    private int _k;

    public ExactRestoreTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute("CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL); CREATE TABLE side (v INTEGER NOT NULL); INSERT INTO side VALUES (0);");
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

    /// <summary>Commits <paramref name="count"/> transactions, each updating the counter and inserting its row.</summary>
    private void Commit(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _k++;
            Execute($"BEGIN; UPDATE counter SET k = {_k}; INSERT INTO rows (n, pad) VALUES ({_k}, randomblob(300)); COMMIT;");
        }
    }

    private Task<ReplicationSession> OpenAsync(TimeProvider? clock = null, BackupService? backups = null) =>
        ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), backups ?? _h.Get<BackupService>(), clock ?? _h.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);

    /// <summary>One replicator session: <paramref name="batches"/> times ten commits, a second, a poll; returns the segments written.</summary>
    private async Task<List<SegmentManifest>> ReplicateBatchesAsync(int batches)
    {
        var written = new List<SegmentManifest>();
        using var session = await OpenAsync();
        for (var batch = 0; batch < batches; batch++)
        {
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            written.Add(session.Poll().Segment!);
        }

        return written;
    }

    private RestoreResult RestoreTo(DateTimeOffset? target) =>
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>The restored database read by the sqlite3 CLI: the counter, whether the rows are exactly 1..counter, the side value, integrity.</summary>
    private (int K, bool Exact, int Side, string Integrity) ReadBack()
    {
        _writer.Close();
        var k = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT k FROM counter;"), System.Globalization.CultureInfo.InvariantCulture);
        var rows = Sqlite3.Query(_h.DatabasePath, "SELECT count(*) || ',' || coalesce(max(n), 0) FROM rows;");
        var side = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT v FROM side;"), System.Globalization.CultureInfo.InvariantCulture);
        return (k, rows == $"{k},{k}", side, Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
    }

    private BackupService BackupsOn(TimeProvider clock) => new(
        _h.Get<SqliteConnectionFactory>(), _h.Get<IOptions<PersistenceOptions>>(), _h.Get<BackupActivity>(), _h.Get<IntegrityRecord>(), clock, NullLogger<BackupService>.Instance);

    [Fact]
    public async Task CommitsWhileNoReplicatorRan_AndTheLogCheckpointedAway_AreNeverStitchedOver()
    {
        Commit(10);
        using (var session = await OpenAsync())
        {
            Commit(10);
            session.Poll();
        }

        // No replicator: a commit touches only the side table, then another process checkpoints and truncates the log.
        Execute("UPDATE side SET v = 7;");
        Assert.Equal(0, Shell.Run("sqlite3", "-batch", _h.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
        using (var session = await OpenAsync())
        {
            session.Poll();
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        _h.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Equal((30, true, 7, "ok"), ReadBack());
        Assert.NotNull(result.Replay);
    }

    [Fact]
    public async Task GenerationStartedOnAClockAnHourAhead_ThenCorrected_LatestKeepsEveryCommit()
    {
        var clock = new SteppingClock(TestHarness.Start.AddHours(1));
        Commit(5);
        using (var session = await OpenAsync(clock, BackupsOn(clock)))
        {
            clock.Now = TestHarness.Start.AddSeconds(1); // the clock is corrected: an hour back
            Commit(10);
            var segment = session.Poll().Segment!;
            Assert.True(segment.LastCommitAt >= session.Generation.StartedAt, "a commit is never stamped before the one before it");
            Commit(10);
            session.Poll();
        }

        _h.Time.Advance(TimeSpan.FromMinutes(2));
        RestoreTo(null);

        Assert.Equal((25, true, 0, "ok"), ReadBack());
    }

    [Fact]
    public async Task BackupTakenOnAClockFiveMinutesAhead_LatestStillReplaysEveryCommitAfterIt()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            var ahead = new SteppingClock(_h.Time.GetUtcNow().AddMinutes(5));
            await BackupsOn(ahead).CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        _h.Time.Advance(TimeSpan.FromMinutes(10));
        var result = RestoreTo(null);

        Assert.Equal((25, true, 0, "ok"), ReadBack());
        Assert.Equal(1, result.Replay!.Segments); // from the backup's own log point: only the segment after it
    }

    [Fact]
    public async Task BackupTakenMidSegment_ReplaysExactlyTheCommitsAfterItsLogPoint()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            var backup = await _h.BackupAsync(); // between two polls: its log point lies inside the next segment
            Assert.True(backup.Pinned);
            Assert.NotNull(backup.WalPosition);
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        _h.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Equal((25, true, 0, "ok"), ReadBack());
        Assert.Equal(1, result.Replay!.Segments);
    }

    [Fact]
    public async Task AResultWhoseContentIsNotTheRecordedOne_IsRefused_AndTheStagingFileNeverBlocksTheNextCandidate()
    {
        Commit(5);
        var last = (await ReplicateBatchesAsync(2))[^1];

        // The history's record of the newest point no longer matches what replaying it gives.
        var store = new ReplicationStore(_h.BackupDirectory);
        var manifestPath = Path.Combine(store.DirectoryOf(last.Generation), last.Filename + ReplicationStore.ManifestSuffix);
        var tampered = last with { EndHash = PageHashes.Format(PageHashes.Parse(last.EndHash)!.Value ^ 1) };
        File.WriteAllBytes(manifestPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tampered, PersistenceJson.Options));

        _h.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        // Not the unproven newest point: the newest provable state, the snapshot itself.
        Assert.Equal((5, true, 0, "ok"), ReadBack());
        Assert.Contains(result.Skipped, s => s.Problem!.Contains("content checksum", StringComparison.Ordinal));
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "RestoreProofFailed");
        Assert.False(File.Exists(RestoreService.StagingPathFor(_h.Locate())));
    }

    [Fact]
    public async Task EmptiedDatabase_IsRecoveredToItsBase_NotToTheReplayOfTheDrops()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Execute("DROP TABLE rows; DROP TABLE counter; DROP TABLE side;");
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        var outcome = await _h.WithVolumeLock((location, held) => _h.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken));

        Assert.Equal(DatabaseCondition.Emptied, outcome.Found);
        Assert.NotNull(outcome.Restore);
        var (k, exact, _, integrity) = ReadBack();
        Assert.True(exact);
        Assert.Equal("ok", integrity);
        Assert.InRange(k, 5, 15);
    }

    [Fact]
    public async Task AfterARollback_NoTimeFromTheRestoreOnGivesBackTheRowsItRolledBack()
    {
        Commit(5);
        var seen = (await ReplicateBatchesAsync(3)).Select(s => s.LastCommitAt).ToList();

        _h.Time.Advance(TimeSpan.FromSeconds(10));
        RestoreTo(seen[0]); // the rollback: 15 rows
        var rolledBackAt = _h.Time.GetUtcNow();
        _h.Time.Advance(TimeSpan.FromSeconds(10));

        var refused = Assert.Throws<RestoreFailedException>(() => RestoreTo(rolledBackAt + TimeSpan.FromSeconds(5)));
        Assert.Contains("at or before", refused.Message, StringComparison.Ordinal);
        RestoreTo(seen[2]);
        Assert.Equal((35, true, 0, "ok"), ReadBack()); // before the rollback, the rows were there
    }

    [Fact]
    public async Task RestoreRequestedForTheNextStart_Latest_RestoresTheNewestCommit_NotTheNewestBackup()
    {
        Commit(5);
        await ReplicateBatchesAsync(1);

        var newest = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).NewestGood!;
        RestoreRequests.Write(_h.Locate().DatabaseDirectory, new RestoreRequest { Backup = newest.Name, RequestedAt = _h.Time.GetUtcNow(), Latest = true });
        Execute("UPDATE side SET v = 9;"); // after the request: a restore to the newest replicated commit drops it
        _writer.Close();

        var result = await _h.Get<Emergence.Persistence.Startup.StartupSequence>().RunAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(result.RequestedRestore!.Replay);
        Assert.Equal((15, true, 0, "ok"), ReadBack());
    }

    [Fact]
    public async Task HistoryAudit_ProvesEverySegment_AndNamesTheFirstWhoseChecksumDiffers()
    {
        Commit(5);
        var written = await ReplicateBatchesAsync(3);

        var audit = _h.Get<HistoryAudit>();
        var whole = Assert.Single(audit.Run(_h.Locate(), TestContext.Current.CancellationToken));
        Assert.True(whole.Ok, whole.Problem);
        Assert.Equal(3, whole.Proven);

        var second = written[1];
        var manifestPath = Path.Combine(new ReplicationStore(_h.BackupDirectory).DirectoryOf(second.Generation), second.Filename + ReplicationStore.ManifestSuffix);
        File.WriteAllBytes(manifestPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(second with { EndHash = PageHashes.Format(PageHashes.Parse(second.EndHash)!.Value ^ 1), }, PersistenceJson.Options));
        var damaged = Assert.Single(audit.Run(_h.Locate(), TestContext.Current.CancellationToken));

        Assert.False(damaged.Ok);
        Assert.Equal(1, damaged.Proven);
        Assert.Contains(second.Filename, damaged.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBackup_PlusAllTheHistoryAfterIt_IsTheLiveDatabase()
    {
        Commit(5);
        for (var restart = 0; restart < 3; restart++)
        {
            using var session = await OpenAsync();
            for (var poll = 0; poll < 6; poll++)
            {
                Commit(7);
                if (poll % 2 == 1)
                {
                    await _h.BackupAsync(); // its log point falls inside the next segment, or at a segment's end
                }

                Commit(3);
                _h.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
            }

            // Between sessions another process checkpoints: the next session must prove where it stands.
            Assert.Equal(0, Shell.Run("sqlite3", "-batch", _h.DatabasePath, restart == 1 ? "PRAGMA wal_checkpoint(RESTART);" : "PRAGMA wal_checkpoint(PASSIVE);").Exit);
        }

        _writer.Close();
        Assert.Equal(0, Shell.Run("sqlite3", "-batch", _h.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
        var live = PageHashes.OfFile(_h.DatabasePath, TestContext.Current.CancellationToken).Checksum; // no connection of this process is open on it now
        var backups = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified;
        Assert.True(backups.Count >= 4, $"only {backups.Count} backups"); // rotation keeps the newest five
        var histories = History.ReadAll(_h.BackupDirectory, _h.DatabasePath);

        foreach (var backup in backups)
        {
            var plan = Timeline.PlansFor([backup], b => b.Manifest!, b => b.TakenAt, histories, target: null)[0];
            var staging = Path.Combine(_h.BackupDirectory, "staging-" + backup.Name);
            Assert.True(_h.Get<BackupVerifier>().VerifyCopy(backup, staging, IntegrityCheck.Quick, cancellationToken: TestContext.Current.CancellationToken).Ok);
            var outcome = PointReplay.Apply(_h.Get<SqliteConnectionFactory>(), staging, plan, plan.Segments, NullLogger.Instance, TestContext.Current.CancellationToken);

            Assert.Null(outcome.ProofProblem);
            Assert.Equal(PageHashes.Format(live), PageHashes.Format(PageHashes.OfFile(staging, TestContext.Current.CancellationToken).Checksum));
            File.Delete(staging);
        }
    }

    [Fact]
    public async Task Restores_CountTheirResultAndEveryProof_AndGenerationsTheirStart()
    {
        using var restores = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(_h.Get<System.Diagnostics.Metrics.IMeterFactory>(), Emergence.Persistence.Metrics.PersistenceMetrics.MeterName, "emergence.restores");
        using var proofs = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(_h.Get<System.Diagnostics.Metrics.IMeterFactory>(), Emergence.Persistence.Metrics.PersistenceMetrics.MeterName, "emergence.restore.proofs");
        Commit(5);
        await ReplicateBatchesAsync(1);

        _h.Time.Advance(TimeSpan.FromSeconds(1));
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
        File.AppendAllText(Path.Combine(new ReplicationStore(_h.BackupDirectory).DirectoryOf(second.Generation), second.Filename), "x");

        var window = Assert.Single(Timeline.Windows(_h.BackupDirectory, _h.DatabasePath));
        Assert.Equal(1, window.Segments);
        Assert.Equal(written[0].LastCommitAt, window.To);
        Assert.Contains(second.Filename, window.Problem, StringComparison.Ordinal);

        _h.Get<Replicator>().Audit(_h.Locate());
        var report = _h.Get<Emergence.Persistence.Health.HealthReporter>().Check(_h.Locate());
        Assert.Equal(Emergence.Persistence.Health.HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("history is damaged", StringComparison.Ordinal) && p.Contains(second.Filename, StringComparison.Ordinal)
            && p.Contains(UtcMillisecondsConverter.Format(written[0].LastCommitAt), StringComparison.Ordinal));
    }

    /// <summary>A wall clock the test sets, forwards or back.</summary>
    private sealed class SteppingClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
