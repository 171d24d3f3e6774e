using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Persistence.Tests.Replication;

/// <summary>
/// History levels: closed segments merged into 10-second, minute, 10-minute, hour and day files. Every restore still gives
/// back a state the database had at or before the time asked (each commit updates a counter and inserts its row, so a
/// state is exact when the rows are 1..counter), reaches it through few files, and after retention keeps the spacing the
/// levels promise; the space budget thins the oldest history first.
/// </summary>
public sealed class HistoryLevelsTests : IDisposable
{
    private readonly TestHarness _h = new();
    private readonly SqliteConnection _writer;
    private readonly SortedDictionary<DateTimeOffset, int> _seen = [];
    private int _k;

    public HistoryLevelsTests()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_h.DatabasePath)!);
        _writer = _h.Get<SqliteConnectionFactory>().OpenOrCreate(_h.DatabasePath);
        Execute("CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);");
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

    /// <summary>
    /// A replicator session over <paramref name="seconds"/> seconds: each second a commit (every seventh second none, so
    /// some periods are quiet), then a poll; the counter each poll saw is kept by its time.
    /// </summary>
    private async Task<GenerationManifest> ReplicateAsync(int seconds, Action<int>? each = null)
    {
        using var session = await ReplicationSession.OpenAsync(_h.Locate(), _h.Get<SqliteConnectionFactory>(), _h.Get<BackupService>(), _h.Time, NullLogger.Instance, 64L << 20, null, TestContext.Current.CancellationToken);
        _seen[_h.Time.GetUtcNow()] = _k;
        for (var second = 1; second <= seconds; second++)
        {
            if (second % 7 != 0)
            {
                _k++;
                Execute($"BEGIN; UPDATE counter SET k = {_k}; INSERT INTO rows (n, pad) VALUES ({_k}, randomblob(300)); COMMIT;");
            }

            _h.Time.Advance(TimeSpan.FromSeconds(1));
            session.Poll();
            _seen[_h.Time.GetUtcNow()] = _k;
            each?.Invoke(second);
        }

        return session.Generation;
    }

    /// <summary>The counter the replicator had seen by <paramref name="at"/>.</summary>
    private int SeenBy(DateTimeOffset at) => _seen.Where(p => p.Key <= at).Select(p => p.Value).DefaultIfEmpty(-1).Last();

    private RestoreResult RestoreTo(DateTimeOffset? target) =>
        _h.WithVolumeLock((location, held) => _h.Get<RestoreService>().RestoreToTime(location, held, target, force: true, "test", cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>The restored database read by the sqlite3 CLI: the counter, and whether the rows are exactly 1..counter.</summary>
    private (int K, bool Exact) ReadBack()
    {
        _writer.Close();
        var k = int.Parse(Sqlite3.Query(_h.DatabasePath, "SELECT k FROM counter;"), CultureInfo.InvariantCulture);
        var rows = Sqlite3.Query(_h.DatabasePath, "SELECT count(*) || ',' || coalesce(max(n), 0) FROM rows;");
        Assert.Equal("ok", Sqlite3.Query(_h.DatabasePath, "PRAGMA integrity_check;"));
        return (k, rows == $"{k},{k}");
    }

    private ReplicationStore Store => new(_h.BackupDirectory);

    private int Compact(GenerationManifest generation) => HistoryCompactor.Compact(Store, generation, closed: false, NullLogger.Instance, TestContext.Current.CancellationToken).Count;

    [Fact]
    public async Task LevelFiles_EveryPointRestoresExactly_ThroughFewFiles()
    {
        var generation = await ReplicateAsync(25 * 60);
        Assert.True(Compact(generation) > 0);
        var levels = Store.Levels(generation.Id);
        foreach (var level in new[] { 1, 2, 3 })
        {
            Assert.Contains(levels, f => f.Level == level);
        }

        Assert.Empty(HistoryCompactor.Compact(Store, generation, closed: false, NullLogger.Instance, TestContext.Current.CancellationToken)); // nothing left to merge
        _h.Time.Advance(TimeSpan.FromSeconds(5));
        var random = new Random(23);
        var targets = Enumerable.Range(0, 16).Select(_ => TestHarness.Start.AddSeconds(random.Next(1, 25 * 60))).Append(TestHarness.Start.AddSeconds(25 * 60)).ToList();
        foreach (var target in targets)
        {
            var result = RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact, $"restore to {target:O} gave a state with a hole");
            Assert.Equal(SeenBy(target), k);
            // From the snapshot, 25 minutes: 10-minute, minute and 10-second files, then segments: never one file per second.
            Assert.InRange(result.Replay!.Segments, 0, 40);
        }
    }

    [Fact]
    public async Task CompactionKilledBetweenItsSteps_LeavesNoLevelFileThatFailsItsChecksum_AndTheNextRunMergesThePeriodAgain()
    {
        var generation = await ReplicateAsync(3 * 60);
        Assert.True(Compact(generation) > 0);
        var first = Store.Levels(generation.Id).Where(l => l.Level == 1).ToList();
        var (renamed, written, deleted) = (first[0], first[1], first[2]);

        // What a kill leaves at each step of writing a level file (data to a temp file, fsync, rename, then its record
        // written atomically) and of deleting one: the temp file half written; the file renamed without its record;
        // the record left after its file was deleted.
        File.WriteAllBytes(written.Path + ".tmp", new byte[100]);
        File.Delete(written.Path);
        File.Delete(written.Path + ".json");
        File.Delete(renamed.Path + ".json");
        File.Delete(deleted.Path);

        Assert.Equal(3, Compact(generation));

        var directory = Store.DirectoryOf(generation.Id);
        foreach (var level in Store.Levels(generation.Id))
        {
            Assert.NotNull(level.Manifest);
            Assert.Null(LevelFile.Check(level.Path, level.Manifest!, TestContext.Current.CancellationToken));
        }

        foreach (var path in new[] { renamed.Path, written.Path, deleted.Path })
        {
            Assert.True(File.Exists(path) && File.Exists(path + ".json"), $"{Path.GetFileName(path)} was not merged again");
        }

        Assert.DoesNotContain(Directory.GetFiles(directory, "L*.json"), record => !File.Exists(record[..^".json".Length]));
        _h.Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var target in Enumerable.Range(0, 6).Select(i => TestHarness.Start.AddSeconds(5 + (i * 35))))
        {
            RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact, $"restore to {target:O} gave a state with a hole");
            Assert.Equal(SeenBy(target), k);
        }
    }

    [Fact]
    public async Task AfterRetention_MinutePointsStay_RestoresAreExactWithinAMinute_AndTheFinePointsAreGone()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(5) };
        var generation = await ReplicateAsync(20 * 60);
        Compact(generation);
        var before = Store.Files(generation.Id).Count;

        _h.Time.Advance(TimeSpan.FromMinutes(30));
        ReplicationRetention.Prune(_h.Locate(), _h.Time.GetUtcNow(), generation.Id, options, NullLogger.Instance);

        var after = Store.Files(generation.Id);
        Assert.True(after.Count < before / 5, $"{after.Count} of {before} history files kept");
        Assert.DoesNotContain(after, f => f.Level == 1 && f.Manifest!.LastCommitAt < TestHarness.Start.AddMinutes(19)); // 10-second points are past their time
        var random = new Random(5);
        foreach (var target in Enumerable.Range(0, 10).Select(_ => TestHarness.Start.AddSeconds(random.Next(60, 19 * 60))))
        {
            RestoreTo(target);
            var (k, exact) = ReadBack();
            Assert.True(exact);
            Assert.InRange(k, SeenBy(target.AddMinutes(-1)), SeenBy(target)); // the newest minute point at or before the time: never a commit after it
        }
    }

    [Fact]
    public async Task DamagedLevelFile_TheRestoreGoesAlongTheSegments_AndStillReachesThePoint()
    {
        var generation = await ReplicateAsync(12 * 60);
        Compact(generation);
        var tenMinutes = Store.Levels(generation.Id).Single(f => f.Level == 3);
        var bytes = File.ReadAllBytes(tenMinutes.Path);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(tenMinutes.Path, bytes);

        _h.Time.Advance(TimeSpan.FromSeconds(5));
        var target = TestHarness.Start.AddSeconds(11 * 60 + 30);
        var result = RestoreTo(target);

        Assert.Equal((SeenBy(target), true), ReadBack());
        Assert.Null(result.Replay!.Stopped);

        // The offline audit proves every file, the level files beside the run too, and names the damaged one.
        var audit = _h.Get<HistoryAudit>().Run(_h.Locate(), TestContext.Current.CancellationToken)[0];
        Assert.Contains(Path.GetFileName(tenMinutes.Path), audit.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupTakenMidRun_IsABaseInsideALevelFile_AfterItsSegmentsAreGone()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(2) };
        BackupManifest? middle = null;
        var generation = await ReplicateAsync(15 * 60, second =>
        {
            if (second == 7 * 60 + 20)
            {
                middle = _h.Get<BackupService>().CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);
        _h.Time.Advance(TimeSpan.FromMinutes(10));
        ReplicationRetention.Prune(_h.Locate(), _h.Time.GetUtcNow(), generation.Id, options, NullLogger.Instance);
        Assert.DoesNotContain(Store.Files(generation.Id), f => f.Level == 0 && f.Manifest!.LastCommitAt < TestHarness.Start.AddMinutes(14));

        var history = History.ReadAll(_h.BackupDirectory, _h.DatabasePath).Single();
        Assert.NotNull(Timeline.BaseIn(history, middle!));
        var audit = _h.Get<HistoryAudit>().Run(_h.Locate(), TestContext.Current.CancellationToken).Single();
        Assert.True(audit.Ok, audit.Problem);
        var target = TestHarness.Start.AddSeconds(9 * 60 + 10);
        var result = RestoreTo(target);

        var (k, exact) = ReadBack();
        Assert.True(exact);
        Assert.InRange(k, SeenBy(target.AddMinutes(-1)), SeenBy(target));
        Assert.Equal(middle!.Filename, result.Backup.Filename); // the newest base, placed inside a level file by its log point
    }

    [Fact]
    public async Task SpaceBudget_ThinsTheOldestHistoryFirst_KeepsEveryPointAfterTheNewestBase_AndSaysHowFarBackPointsGo()
    {
        var options = new ReplicationOptions { EveryCommit = TimeSpan.FromMinutes(3) };
        var generation = await ReplicateAsync(15 * 60, second =>
        {
            if (second == 12 * 60)
            {
                _h.Get<BackupService>().CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);
        var oldest = Timeline.Windows(_h.BackupDirectory, _h.DatabasePath).Single().From;

        // A volume with no room left: the history goes from its oldest point up to the newest base, and no further.
        var thinned = HistoryBudget.Thin(_h.Locate(), 0, generation.Id, _h.Time.GetUtcNow(), options, NullLogger.Instance);

        Assert.NotNull(thinned);
        Assert.True(thinned.From > oldest.AddMinutes(10), $"thinned only to {thinned.From:O}");
        Assert.True(thinned.From <= TestHarness.Start.AddMinutes(12), $"thinned past the newest base, to {thinned.From:O}");
        Assert.Contains("thinned", HistoryBudget.Sentence(thinned, _h.Time.GetUtcNow(), options), StringComparison.Ordinal);
        Assert.Null(HistoryBudget.Thin(_h.Locate(), long.MaxValue, generation.Id, _h.Time.GetUtcNow(), options, NullLogger.Instance)); // room enough: nothing goes

        // Every point after the newest base still restores exactly.
        _h.Time.Advance(TimeSpan.FromSeconds(5));
        foreach (var target in new[] { TestHarness.Start.AddSeconds(12 * 60 + 30), TestHarness.Start.AddSeconds(14 * 60 + 45) })
        {
            RestoreTo(target);
            Assert.Equal((SeenBy(target), true), ReadBack());
        }
    }

    [Fact]
    public async Task PlanningAPoint_ReadsTheCoarsestFilesThatReachIt_AndPlansThePointReadingAllWouldPlan_PastAHoleOnlyByAProvenFile()
    {
        var generation = await ReplicateAsync(25 * 60, second =>
        {
            if (second == 8 * 60 + 20)
            {
                _h.Get<BackupService>().CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
        });
        Compact(generation);

        // A damaged record at about 20 minutes, where no level file starts: a full read's run ends there.
        var levelStarts = Store.Levels(generation.Id).Select(l => l.Sequence).ToHashSet();
        var damaged = Store.Segments(generation.Id).First(s => s.Manifest!.LastCommitAt >= TestHarness.Start.AddMinutes(20) && !levelStarts.Contains(s.Sequence));
        File.WriteAllText(damaged.Path + ".json", "{ not a record");
        _h.Time.Advance(TimeSpan.FromSeconds(5));

        var candidates = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).RestoreCandidates;
        var all = History.ReadAll(_h.BackupDirectory, _h.DatabasePath);
        Assert.Contains(Path.GetFileName(damaged.Path), all.Single().Problem, StringComparison.Ordinal);
        var random = new Random(31);
        var targets = Enumerable.Range(0, 12).Select(_ => (DateTimeOffset?)TestHarness.Start.AddSeconds(random.Next(1, 25 * 60)))
            .Concat([TestHarness.Start.AddSeconds(-5), TestHarness.Start.AddSeconds(8 * 60 + 21), TestHarness.Start.AddMinutes(24), null]).ToList();
        foreach (var target in targets)
        {
            var coarse = History.ReadUntil(_h.BackupDirectory, _h.DatabasePath, target);
            var full = Timeline.PlansFor(candidates, b => b.Manifest!, b => b.TakenAt, all, target);
            var part = Timeline.PlansFor(candidates, b => b.Manifest!, b => b.TakenAt, coarse, target);
            // The coarsest files: a 10-minute file, then at most 9 minute files, 5 of 10 seconds and 10 segments,
            // where a full read takes up to 1,500 segments.
            Assert.True(coarse.Single().Run.Count <= 26, $"{coarse.Single().Run.Count} files of the run read for {target:O}");
            Assert.Equal(full.Count == 0, part.Count == 0);
            if (full.Count == 0)
            {
                continue; // before the history: nothing to restore either way
            }

            Assert.Equal(full[0].Backup.Name, part[0].Backup.Name);
            if (target < damaged.Manifest!.FirstCommitAt)
            {
                // Before the hole: the same point, proven by the same checksum, through no more files.
                Assert.Equal((full[0].ReachedAt, EndHash(full[0])), (part[0].ReachedAt, EndHash(part[0])));
                Assert.True(part[0].Segments.Count <= full[0].Segments.Count, $"{part[0].Segments.Count} files planned for {target:O}, {full[0].Segments.Count} reading all");
            }
            else
            {
                // A minute file merged before the record was damaged holds the changes across it, proven at both ends.
                Assert.Null(part[0].Problem);
                Assert.True(part[0].ReachedAt > full[0].ReachedAt, $"the coarse plan for {target:O} reached {part[0].ReachedAt:O}, the full one {full[0].ReachedAt:O}");
            }
        }

        foreach (var target in new[] { TestHarness.Start.AddSeconds(9 * 60 + 40), TestHarness.Start.AddMinutes(24) })
        {
            RestoreTo(target);
            Assert.Equal((SeenBy(target), true), ReadBack());
        }
    }

    [Fact]
    public async Task ALevelRecordWhoseLastCommitTimeIsWrong_DoesNotCarryARestorePastTheTimeAsked()
    {
        var generation = await ReplicateAsync(25 * 60);
        Compact(generation);

        // The first 10-minute file's record says its last commit came two minutes before it did (still valid JSON).
        var tenMinutes = Store.Levels(generation.Id).Where(f => f.Level == 3).MinBy(f => f.Sequence)!;
        var end = tenMinutes.Manifest!.LastCommitAt;
        EditRecord(tenMinutes, r => r["last_commit_at"] = UtcMillisecondsConverter.Format(end.AddMinutes(-2)));
        _h.Time.Advance(TimeSpan.FromSeconds(5));

        // A time inside the last two minutes of its period: the segments' own records decide where the restore stops.
        var target = end.AddMinutes(-1);
        RestoreTo(target);

        Assert.Equal((SeenBy(target), true), ReadBack());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALevelRecordWhoseEndPositionIsWrong_OnTheCoarsePath_TheRestoreStillReachesThePoint(bool latest)
    {
        var generation = await ReplicateAsync(25 * 60);
        Compact(generation);

        // The first 10-minute file's record names a log point it does not end at: the file after it does not follow it.
        var tenMinutes = Store.Levels(generation.Id).Where(f => f.Level == 3).MinBy(f => f.Sequence)!;
        EditRecord(tenMinutes, r => r["end"]!["s1"] = r["end"]!["s1"]!.GetValue<uint>() ^ 1);
        _h.Time.Advance(TimeSpan.FromSeconds(5));

        DateTimeOffset? target = latest ? null : TestHarness.Start.AddMinutes(24);
        var result = RestoreTo(target);

        Assert.Equal((SeenBy(target ?? _h.Time.GetUtcNow()), true), ReadBack());
        Assert.Null(result.Replay!.Stopped);
    }

    /// <summary>Rewrites a history file's record (still valid JSON) with <paramref name="edit"/>.</summary>
    private static void EditRecord(HistoryFile file, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var path = file.Path + ReplicationStore.ManifestSuffix;
        var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(record);
        File.WriteAllText(path, record.ToJsonString());
    }

    private static string? EndHash(Timeline.Plan<BackupEntry> plan) => plan.Segments.Count > 0 ? plan.Segments[^1].Manifest!.EndHash : null;
}
