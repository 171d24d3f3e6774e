using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// Segments copied to a real store on loopback (each test for both kinds: Azurite and s3rver) and restored from it after the volume is wiped, read back with the
/// sqlite3 CLI. The test drives the polls, the uploads and the clock.
/// </summary>
public sealed class OffsiteReplicationTests : IDisposable
{
    private const string Container = OffsiteServer.Name;
    private OffsiteServer _server = null!;
    private TestHarness _h = null!;
    private SqliteConnection _writer = null!;
    private int _next = 1;

    /// <summary>Starts a store of <paramref name="kind"/> and a database with a table, the store as its off-volume target.</summary>
    private void Start(TargetKind kind)
    {
        _server = OffsiteServer.Start(kind);
        var settings = _server.Settings();
        settings["Persistence:Offsite:KeepBackups"] = "1";
        _h = new TestHarness(settings, configureServices: OffsiteServer.FastRetries);
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute("CREATE TABLE rows (n INTEGER PRIMARY KEY, batch INTEGER NOT NULL, pad BLOB NOT NULL)");
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _h?.Dispose();
        _server?.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Damages an object behind the library's back, keeping its metadata (so only the content lies).</summary>
    private async Task DamageAsync(string key, string damage)
    {
        var bytes = await _server.ReadAsync(key, Token);
        switch (damage)
        {
            case "corrupt":
                bytes[^100] ^= 0x5A; // inside the last frame's page: the transactions before it are whole
                await _server.OverwriteAsync(key, bytes, Token);
                break;
            case "truncate":
                await _server.OverwriteAsync(key, bytes[..^10], Token);
                break;
            default:
                await _server.Objects.DeleteAsync(key, Token);
                break;
        }
    }

    private void Execute(string sql)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Commit(int count, int batch)
    {
        for (var i = 0; i < count; i++)
        {
            Execute($"INSERT INTO rows (n, batch, pad) VALUES ({_next++}, {batch}, randomblob(300))");
        }
    }

    /// <summary>Opens a generation and writes one segment per batch of <paramref name="perBatch"/> rows; returns the segments.</summary>
    private async Task<List<SegmentManifest>> ReplicateAsync(int batches, int perBatch = 10)
    {
        var segments = new List<SegmentManifest>();
        using var session = await ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, Token);
        for (var batch = 1; batch <= batches; batch++)
        {
            Commit(perBatch, batch);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            segments.Add(session.Poll().Segment!);
        }

        return segments;
    }

    private Task<bool> UploadAsync() => _h.Get<HistoryUploader>().SyncAsync(_h.Locate(), Token);

    private void WipeVolume()
    {
        _writer.Close();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(_h.DatabasePath)!, recursive: true);
    }

    private Task<RestoreResult> RestoreOffsiteAsync(DateTimeOffset? target) =>
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreOffsiteToTimeAsync(location, held, _h.Get<OffsiteConnector>().For(location)!, target, force: true, "test", cancellationToken: Token));

    /// <summary>The row count, whether rows are exactly 1..count, and integrity, read by the sqlite3 CLI.</summary>
    private (int Count, bool Prefix, string Integrity) ReadBack()
    {
        _writer.Close();
        var count = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        var max = Sqlite3.Query(_h.DatabasePath, "SELECT coalesce(max(n), 0) FROM rows;");
        return (count, max == count.ToString(CultureInfo.InvariantCulture), Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_CopiesTheSnapshotAndEverySegmentVerified_AndTheWipedVolumeRestoresEveryRow(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);

        Assert.True(await UploadAsync());

        // The snapshot went first (the container was empty), then the generation and each segment, with its checksum.
        var generation = new ReplicationStore(_h.BackupDirectory).Generations(_h.DatabasePath).Single();
        Assert.True(await _server.ExistsAsync(generation.BaseBackup + BackupNaming.ManifestSuffix, Token));
        foreach (var segment in segments)
        {
            var properties = (await _server.Objects.GetAsync(OffsiteHistory.SegmentBlob(segment.Generation, segment.Sequence), Token))!;
            Assert.Equal(segment.Checksum, properties.Metadata[OffsiteStore.ChecksumMetadataKey]);
            Assert.Equal(segment.Size, properties.Size);
        }

        var report = _h.Get<HealthReporter>().Check(_h.Locate());
        Assert.Equal(0, report.Backups.Replication!.OffsiteLagSeconds);
        Assert.Null(report.Backups.Replication.OffsiteLastError);

        WipeVolume();
        var restored = await RestoreOffsiteAsync(null);

        Assert.Equal(Container, restored.OffsiteContainer);
        Assert.Equal(3, restored.Replay!.Segments);
        Assert.Null(restored.Replay.Stopped);
        Assert.Equal(segments[^1].LastCommitAt, restored.RestoredTo);
        Assert.Equal((35, true, "ok"), ReadBack());
        Assert.Empty(Directory.GetDirectories(new ReplicationStore(_h.BackupDirectory).Root, ".restore-*"));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task LevelFiles_GoUpToo_AndAWipedVolumeRestoresAPointThroughFewObjects(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(12 * 60, perBatch: 1);
        var generation = new ReplicationStore(_h.BackupDirectory).Generations(_h.DatabasePath).Single();
        var levels = HistoryCompactor.Compact(new ReplicationStore(_h.BackupDirectory), generation, closed: false, NullLogger.Instance, Token);
        Assert.Contains(levels, l => l.Level == 3);

        Assert.True(await UploadAsync());
        foreach (var level in levels)
        {
            Assert.Equal(level.Checksum, (await _server.Objects.GetAsync(OffsiteHistory.FileBlob(level), Token))!.Metadata[OffsiteStore.ChecksumMetadataKey]);
        }

        WipeVolume();
        var target = segments[11 * 60 + 30].LastCommitAt;
        var restored = await RestoreOffsiteAsync(target);

        Assert.Equal(target, restored.RestoredTo);
        Assert.InRange(restored.Replay!.Segments, 1, 40); // a 10-minute file, minute and 10-second files, segments: not 690 objects
        Assert.Equal((5 + (11 * 60) + 31, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task AHistoryFileLargerThanAPart_GoesUpInParts_AndRestores(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        SegmentManifest big;
        using (var session = await ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, Token))
        {
            Commit(10, 1);
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.NotNull(session.Poll().Segment);
            Execute($"INSERT INTO rows (n, batch, pad) VALUES ({_next++}, 2, randomblob({FileParts.PartSize + (2 << 20)}))");
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            big = session.Poll().Segment!;
        }

        Assert.True(big.Size > FileParts.PartSize, $"the segment is only {big.Size} bytes");

        Assert.True(await UploadAsync());

        var blob = OffsiteHistory.FileBlob(big);
        Assert.True(await _server.PartsAsync(blob, Token) is null or >= 2, "a history file larger than a part went up in one request");
        Assert.Equal(big.Checksum, (await _server.Objects.GetAsync(blob, Token))!.Metadata[OffsiteStore.ChecksumMetadataKey]);
        Assert.Equal(big.Checksum, await _server.Sha256Async(blob, Token));
        WipeVolume();
        var restored = await RestoreOffsiteAsync(big.LastCommitAt);
        Assert.Equal(big.LastCommitAt, restored.RestoredTo);
        Assert.Equal((16, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_AfterMoreSegments_CopiesOnlyTheNewOnes_AndRestoreToManyPointsGivesPrefixes(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var first = await ReplicateAsync(2);
        await UploadAsync();
        var uploaded = (await _server.Objects.GetAsync(OffsiteHistory.SegmentBlob(first[0].Generation, 1), Token))!.LastModified;

        // The session resumes the generation: segments 3 and 4 follow.
        var more = await ReplicateAsync(2);
        await UploadAsync();

        Assert.Equal(first[0].Generation, more[0].Generation);
        Assert.Equal(uploaded, (await _server.Objects.GetAsync(OffsiteHistory.SegmentBlob(first[0].Generation, 1), Token))!.LastModified);
        var all = first.Concat(more).ToList();
        for (var k = 0; k < all.Count; k++)
        {
            WipeVolume();
            await RestoreOffsiteAsync(all[k].LastCommitAt);
            Assert.Equal((5 + (10 * (k + 1)), true, "ok"), ReadBack());
        }
    }

    public static TheoryData<TargetKind, string> KindsAndDamages => new()
    {
        { TargetKind.Azure, "corrupt" }, { TargetKind.Azure, "truncate" }, { TargetKind.Azure, "delete" },
        { TargetKind.S3, "corrupt" }, { TargetKind.S3, "truncate" }, { TargetKind.S3, "delete" },
    };

    [Theory]
    [MemberData(nameof(KindsAndDamages))]
    public async Task DamagedSegmentInTheContainer_ReplayStopsAtTheLastWholeCommitBeforeIt_NamingIt(TargetKind kind, string damage)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);
        await UploadAsync();
        var second = segments[1];
        await DamageAsync(OffsiteHistory.SegmentBlob(second.Generation, second.Sequence), damage);

        WipeVolume();
        var result = await RestoreOffsiteAsync(null);

        var (count, prefix, integrity) = ReadBack();
        Assert.True(prefix);
        Assert.Equal("ok", integrity);
        Assert.Contains(second.Filename, result.Replay!.Stopped, StringComparison.Ordinal);
        Assert.InRange(count, 15, damage == "delete" ? 15 : 24);
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "ReplayStopped" && r.Message.Contains(second.Filename, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Retention_KeepsEverySegmentAfterTheContainersBackupsPoints_AndNoneBefore(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var old = await ReplicateAsync(3);
        await UploadAsync();
        _h.Time.Advance(TimeSpan.FromSeconds(5));
        await _h.BackupAsync(); // the container keeps one backup: the next sync rotates the snapshot out
        var newer = await ReplicateAsync(2);
        var sync = await _h.Get<BackupUploader>().SyncAsync(_h.Locate(), TimeSpan.FromSeconds(5), cancellationToken: Token);
        Assert.Null(sync.Error);

        await UploadAsync();

        var names = await _server.KeysAsync(OffsiteHistory.Prefix, Token);

        var generation = old[0].Generation;
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 1), names);
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 2), names);
        Assert.DoesNotContain(OffsiteHistory.SegmentBlob(generation, 3), names); // the container's backup holds it: its point is after it
        Assert.All(newer, s => Assert.Contains(OffsiteHistory.SegmentBlob(s.Generation, s.Sequence), names));
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "SegmentsPruned" && r.Message.Contains(Container, StringComparison.Ordinal));

        WipeVolume();
        var restored = await RestoreOffsiteAsync(null);
        Assert.Equal(2, restored.Replay!.Segments);
        Assert.Equal((55, true, "ok"), ReadBack());
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Drill_RestoresTheNewestPointInTheContainer_AndFailsOnADamagedSegment(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(3);
        await UploadAsync();

        var passed = await _h.Get<RestoreDrill>().RunAsync(_h.Locate(), cancellationToken: Token);

        Assert.True(passed!.Ok, passed.Problem);
        Assert.Equal(3, passed.Segments);
        Assert.Equal(segments[^1].LastCommitAt, passed.RestoredTo);
        Assert.Equal(3, _h.Get<HealthReporter>().Check(_h.Locate()).Backups.Offsite!.Drill!.Segments);

        await DamageAsync(OffsiteHistory.SegmentBlob(segments[2].Generation, 3), "corrupt");

        var failed = await _h.Get<RestoreDrill>().RunAsync(_h.Locate(), cancellationToken: Token);

        Assert.False(failed!.Ok);
        Assert.Contains(segments[2].Filename, failed.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task Upload_ContainerUnreachable_RecordsTheErrorForHealth_AndALaterPassCatchesUp(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        await ReplicateAsync(2);
        _server.Kill();

        var uploader = _h.Get<HistoryUploader>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var caughtUp = new TaskCompletionSource();
        uploader.CaughtUp += _ => caughtUp.TrySetResult();
        var run = uploader.RunAsync(_h.Locate(), cancel.Token);
        await WaitUntilAsync(() => _h.Get<HealthReporter>().Check(_h.Locate()).Backups.Replication?.OffsiteLastError is not null);

        var report = _h.Get<HealthReporter>().Check(_h.Locate());
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains(report.Problems, p => p.StartsWith("copying WAL segments off the volume failed", StringComparison.Ordinal));
        Assert.False(caughtUp.Task.IsCompleted);
        await cancel.CancelAsync();
        await run;
    }

    [Theory]
    [MemberData(nameof(OffsiteServer.Kinds), MemberType = typeof(OffsiteServer))]
    public async Task WhileAnotherRunHoldsTheUploadLock_SegmentsStillGoUp_ButTheContainerIsCaughtUpOnlyWithTheSnapshot(TargetKind kind)
    {
        Start(kind);
        Commit(5, 0);
        var segments = await ReplicateAsync(2);
        var uploadLock = Emergence.Persistence.Volumes.VolumeLock.TryAcquire(Path.Combine(_h.BackupDirectory, BackupUploader.LockFileName), _h.Time, out _)!;
        var uploader = _h.Get<HistoryUploader>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var run = uploader.RunAsync(_h.Locate(), cancel.Token);
        var last = OffsiteHistory.SegmentBlob(segments[^1].Generation, segments[^1].Sequence);
        try
        {
            await WaitUntilAsync(() => _server.ExistsAsync(last, Token).GetAwaiter().GetResult());

            // The segments are in the container, the snapshot is not: nothing there is restorable yet, and waiting
            // for the other upload run is not a failure.
            var replication = _h.Get<HealthReporter>().Check(_h.Locate()).Backups.Replication;
            Assert.Null(replication?.OffsiteLagSeconds);
            Assert.Null(replication?.OffsiteLastError);
        }
        finally
        {
            uploadLock.Dispose();
        }

        await WaitUntilAsync(() => _h.Get<HealthReporter>().Check(_h.Locate()).Backups.Replication?.OffsiteLagSeconds is not null);
        var generation = new ReplicationStore(_h.BackupDirectory).Generations(_h.DatabasePath).Single();
        Assert.True(await _server.ExistsAsync(generation.BaseBackup + BackupNaming.ManifestSuffix, Token));
        await cancel.CancelAsync();
        await run;
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            // The uploader waits on the fake clock between attempts.
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, Token);
        }

        Assert.True(condition(), "the condition did not hold within 10 s");
    }
}
