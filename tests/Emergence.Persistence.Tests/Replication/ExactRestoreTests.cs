using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Restores from a backup and the history after it give back exactly a state the database had: never stitched over a
/// gap, from a backup's own log point, refused when the result is not the recorded content, and after a rollback.
/// </summary>
public sealed class ExactRestoreTests : ExactRestoreTest
{
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
        Assert.Equal(0, Shell.Run("sqlite3", "-batch", H.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
        using (var session = await OpenAsync())
        {
            session.Poll();
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        Assert.Equal((30, true, 7, "ok"), ReadBack());
        Assert.NotNull(result.Replay);
    }

    [Fact]
    public async Task BackupTakenMidSegment_ReplaysExactlyTheCommitsAfterItsLogPoint()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            var backup = await H.BackupAsync(); // between two polls: its log point lies inside the next segment
            Assert.True(backup.Pinned);
            Assert.NotNull(backup.WalPosition);
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        H.Time.Advance(TimeSpan.FromSeconds(1));
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
        var store = new ReplicationStore(H.BackupDirectory);
        var manifestPath = Path.Combine(store.DirectoryOf(last.Generation), last.Filename + ReplicationStore.ManifestSuffix);
        var tampered = last with { EndHash = PageHashes.Format(PageHashes.Parse(last.EndHash)!.Value ^ 1) };
        File.WriteAllBytes(manifestPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tampered, PersistenceJson.Options));

        H.Time.Advance(TimeSpan.FromSeconds(1));
        var result = RestoreTo(null);

        // Not the unproven newest point: the newest provable state, the snapshot itself.
        Assert.Equal((5, true, 0, "ok"), ReadBack());
        Assert.Contains(result.Skipped, s => s.Problem!.Contains("content checksum", StringComparison.Ordinal));
        Assert.Contains(H.Logs.GetSnapshot(), r => r.Id.Name == "RestoreProofFailed");
        Assert.False(File.Exists(RestoreService.StagingPathFor(H.Locate())));
    }

    [Fact]
    public async Task EmptiedDatabase_IsRecoveredToItsBase_NotToTheReplayOfTheDrops()
    {
        Commit(5);
        using (var session = await OpenAsync())
        {
            Commit(10);
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            Execute("DROP TABLE rows; DROP TABLE counter; DROP TABLE side;");
            H.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
        }

        var outcome = await H.WithVolumeLock((location, held) => H.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken));

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

        H.Time.Advance(TimeSpan.FromSeconds(10));
        RestoreTo(seen[0]); // the rollback: 15 rows
        var rolledBackAt = H.Time.GetUtcNow();
        H.Time.Advance(TimeSpan.FromSeconds(10));

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

        var newest = BackupCatalog.Scan(H.BackupDirectory, H.DatabasePath, H.Time.GetUtcNow()).NewestGood!;
        RestoreRequests.Write(H.Locate().DatabaseDirectory, new RestoreRequest { Backup = newest.Name, RequestedAt = H.Time.GetUtcNow(), Latest = true });
        Execute("UPDATE side SET v = 9;"); // after the request: a restore to the newest replicated commit drops it
        Writer.Close();

        var result = await H.Get<Emergence.Persistence.Startup.StartupSequence>().RunAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(result.RequestedRestore!.Replay);
        Assert.Equal((15, true, 0, "ok"), ReadBack());
    }

    [Fact]
    public async Task ABackupWhoseManifestHidesAChangedPage_IsNeitherReplayedOntoNorRestoredAsItIs()
    {
        // A page of the backup that no later commit writes is changed, and its manifest's SHA-256 and size written
        // to match while its content_hash is kept: only the copy's content, measured, shows it is not the recorded base.
        Commit(5);
        await ReplicateBatchesAsync(2);
        var backup = BackupCatalog.Scan(H.BackupDirectory, H.DatabasePath, H.Time.GetUtcNow()).Verified.Single();
        Assert.Equal(0, Shell.Run("sqlite3", "-batch", backup.Path, "UPDATE side SET v = 42;").Exit);
        var sha = Sqlite3.Sha256Sum(backup.Path);
        Emergence.Persistence.Tests.Backups.BackupVerifierTests.EditManifest(backup.Manifest!, json =>
        {
            json["checksum"] = sha;
            json["content_checksum"] = sha;
            json["size"] = new FileInfo(backup.Path).Length;
        });
        H.Time.Advance(TimeSpan.FromSeconds(1));

        // The only backup: no plan from it is proven (neither the replay onto it nor its own state), so nothing is restored.
        var refused = Assert.Throws<RestoreFailedException>(() => RestoreTo(null));

        Assert.Contains("the copy of the backup holds content checksum", refused.Message, StringComparison.Ordinal);
        Assert.Equal((25, true, 0, "ok"), ReadBack());
    }

    [Fact]
    public async Task ARestoreToAPoint_ProvesItsResult_FromThePagesItsReplayChanged()
    {
        Commit(5);
        await ReplicateBatchesAsync(3);
        Commit(1);
        H.Time.Advance(TimeSpan.FromSeconds(1));

        var result = RestoreTo(null);

        Assert.True(result.Replay!.Segments > 0);
        Assert.False(result.Replay.ProofReadWhole);
        Assert.Equal((35, true, 0, "ok"), ReadBack());
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
                    await H.BackupAsync(); // its log point falls inside the next segment, or at a segment's end
                }

                Commit(3);
                H.Time.Advance(TimeSpan.FromSeconds(1));
                session.Poll();
            }

            // Between sessions another process checkpoints: the next session must prove where it stands.
            Assert.Equal(0, Shell.Run("sqlite3", "-batch", H.DatabasePath, restart == 1 ? "PRAGMA wal_checkpoint(RESTART);" : "PRAGMA wal_checkpoint(PASSIVE);").Exit);
        }

        Writer.Close();
        Assert.Equal(0, Shell.Run("sqlite3", "-batch", H.DatabasePath, "PRAGMA wal_checkpoint(TRUNCATE);").Exit);
        var live = PageHashes.OfFile(H.DatabasePath, TestContext.Current.CancellationToken).Checksum; // no connection of this process is open on it now
        var backups = BackupCatalog.Scan(H.BackupDirectory, H.DatabasePath, H.Time.GetUtcNow()).Verified;
        Assert.True(backups.Count >= 4, $"only {backups.Count} backups"); // rotation keeps the newest five
        var histories = History.ReadAll(H.BackupDirectory, H.DatabasePath);

        foreach (var backup in backups)
        {
            // Proven by the whole result read again, and by the pages the replay changed read back onto the copy's measured checksum.
            var plan = Timeline.PlansFor([backup], b => b.Manifest!, b => b.TakenAt, histories, target: null)[0];
            foreach (var measure in new[] { false, true })
            {
                var staging = Path.Combine(H.BackupDirectory, "staging-" + backup.Name);
                var verified = H.Get<BackupVerifier>().VerifyCopy(backup, staging, IntegrityCheck.Quick, measure, cancellationToken: TestContext.Current.CancellationToken);
                Assert.True(verified.Ok && measure == verified.CopyContentHash is not null, verified.Problem);
                var outcome = PointReplay.Apply(H.Get<SqliteConnectionFactory>(), staging, plan, plan.Segments, verified.CopyContentHash, null, NullLogger.Instance, TestContext.Current.CancellationToken);

                Assert.True(outcome.ProofProblem is null, $"{backup.Name}, measured {measure}: {outcome.ProofProblem}");
                Assert.Equal(plan.Segments.Count > 0 && !measure, outcome.Replay.ProofReadWhole);
                Assert.Equal(PageHashes.Format(live), PageHashes.Format(PageHashes.OfFile(staging, TestContext.Current.CancellationToken).Checksum));
                File.Delete(staging);
            }

            if (plan.Segments.Count > 0)
            {
                // A start that does not give the recorded checksum (a wrong one, where nothing recorded of the base refuses
                // it first): the proof reads the whole result, and that proves it.
                var staging = Path.Combine(H.BackupDirectory, "staging-" + backup.Name);
                var verified = H.Get<BackupVerifier>().VerifyCopy(backup, staging, IntegrityCheck.Quick, measureContent: true, cancellationToken: TestContext.Current.CancellationToken);
                var outcome = PointReplay.Apply(H.Get<SqliteConnectionFactory>(), staging, plan with { BaseHash = null, Manifest = plan.Manifest with { ContentHash = null } }, plan.Segments, verified.CopyContentHash ^ 1, null, NullLogger.Instance,
                    TestContext.Current.CancellationToken);

                Assert.True(outcome.ProofProblem is null, $"{backup.Name}: {outcome.ProofProblem}");
                Assert.True(outcome.Replay.ProofReadWhole);
                Assert.Equal(PageHashes.Format(live), PageHashes.Format(PageHashes.OfFile(staging, TestContext.Current.CancellationToken).Checksum));
                File.Delete(staging);
            }
        }
    }
}
