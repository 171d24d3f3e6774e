using System.Text.Json;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Tests.Backups;

public sealed class BackupServiceTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    /// <summary>A manual backup at the clock's current second (the tests move the clock themselves).</summary>
    private Task<BackupManifest> BackupAsync() => _h.BackupAsync(TimeSpan.Zero);

    [Fact]
    public async Task CreateAsync_WhileAnotherConnectionCommits_CopyIsConsistent()
    {
        _h.CreateLedger(accounts: 20);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => Transfers(_h.DatabasePath, stop.Token), TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken);

        var manifests = new List<BackupManifest>();
        for (var i = 0; i < 5; i++)
        {
            _h.Time.Advance(TimeSpan.FromSeconds(1));
            manifests.Add(await BackupAsync());
        }

        await stop.CancelAsync();
        var committed = await writer;

        Assert.True(committed > 0, "the writer should have committed while backups ran");
        foreach (var manifest in manifests.Where(m => File.Exists(m.BackupPath)))
        {
            Assert.Equal("ok", Sqlite3.Query(manifest.BackupPath, "PRAGMA integrity_check;"));
            Assert.Equal("2000", Sqlite3.Query(manifest.BackupPath, "SELECT sum(balance) FROM accounts;"));
            Assert.Equal("ok", manifest.QuickCheck);
        }

        Assert.Equal("2000", Sqlite3.Query(_h.DatabasePath, "SELECT sum(balance) FROM accounts;"));
    }

    private static int Transfers(string databasePath, CancellationToken stop)
    {
        using var connection = new SqliteConnectionFactory().OpenExisting(databasePath);
        var random = new Random(42);
        var committed = 0;
        while (!stop.IsCancellationRequested)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var from = random.Next(1, 21);
            var to = random.Next(1, 21);
            command.CommandText = $"""
                UPDATE accounts SET balance = balance - 3 WHERE id = {from};
                UPDATE accounts SET balance = balance + 3 WHERE id = {to};
                INSERT INTO transfers (from_id, to_id, amount) VALUES ({from}, {to}, 3);
                """;
            command.ExecuteNonQuery();
            transaction.Commit();
            committed++;
        }

        return committed;
    }

    [Fact]
    public async Task CreateAsync_Always_RunsItsWorkAtTheCallersPriority()
    {
        // A lowered nice value on the backup's threads would pass on to every thread created while they run
        // (thread-pool workers that later serve the app, child processes): the work must not lower it.
        _h.CreateLedger(accounts: 20);
        var seen = new System.Collections.Concurrent.ConcurrentBag<(string Phase, int Nice)>();
        var progress = new InlineProgress(p => seen.Add((p.Phase, NiceOfThisThread())));

        await _h.Get<BackupService>().CreateAsync(_h.Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), progress, TestContext.Current.CancellationToken);

        var caller = NiceOfThisThread();
        Assert.Contains(seen, s => s.Phase == "checksum");
        Assert.Contains(seen, s => s.Phase == "synced");
        Assert.All(seen, s => Assert.Equal(caller, s.Nice));
    }

    /// <summary>The calling thread's nice value, field 19 of <c>/proc/thread-self/stat</c> (after the parenthesised name).</summary>
    private static int NiceOfThisThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task CreateAsync_Always_ManifestChecksumEqualsSha256sumOfTheFile()
    {
        _h.AddNotes(500);

        var manifest = await BackupAsync();

        Assert.Equal(Sqlite3.Sha256Sum(manifest.BackupPath), manifest.Checksum);
        var onDisk = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(manifest.BackupPath + ".json"));
        Assert.Equal(manifest.Checksum, onDisk.GetProperty("checksum").GetString());
        Assert.Equal("database_backup_20250114_103000.sqlite", onDisk.GetProperty("filename").GetString());
        Assert.Equal("2025-01-14T10:30:00Z", onDisk.GetProperty("timestamp").GetString());
        Assert.Equal("manual", onDisk.GetProperty("reason").GetString());
        Assert.Equal(new FileInfo(manifest.BackupPath).Length, onDisk.GetProperty("size").GetInt64());
        foreach (var field in new[] { "source_path", "backup_path", "quick_check", "sqlite_version", "page_size", "page_count", "user_version" })
        {
            Assert.True(onDisk.TryGetProperty(field, out _), $"manifest lacks {field}");
        }

        Assert.Equal("500", Sqlite3.Query(manifest.BackupPath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task CreateAsync_BackupOfWalDatabase_LeavesNoSideFilesAndIsRollbackJournalMode()
    {
        _h.AddNotes(10);

        var manifest = await BackupAsync();

        Assert.Equal("delete", Sqlite3.Query(manifest.BackupPath, "PRAGMA journal_mode;"));
        string[] expected = [manifest.Filename, manifest.Filename + ".json"];
        Assert.Equal(expected, Directory.GetFiles(_h.BackupDirectory).Select(f => Path.GetFileName(f)).Where(n => !n.StartsWith('.')).Order());
    }

    [Fact]
    public async Task CreateAsync_TwoBackupsInTheSameSecond_GetDistinctNames()
    {
        _h.AddNotes(5);

        var first = await BackupAsync();
        var second = await BackupAsync();
        var third = await BackupAsync();

        Assert.Equal("database_backup_20250114_103000.sqlite", first.Filename);
        Assert.Equal("database_backup_20250114_103000_2.sqlite", second.Filename);
        Assert.Equal("database_backup_20250114_103000_3.sqlite", third.Filename);
    }

    [Fact]
    public async Task CreateAsync_AfterKeepPlusThreeBackups_KeepsExactlyKeepNewest()
    {
        _h.AddNotes(5);
        var names = new List<string>();

        for (var i = 0; i < _h.Options.KeepBackups + 3; i++)
        {
            _h.Time.Advance(TimeSpan.FromMinutes(1));
            names.Add((await BackupAsync()).Filename);
        }

        var inventory = BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow());
        Assert.Equal(5, inventory.Verified.Count);
        Assert.Equal(names.TakeLast(5).Reverse(), inventory.Verified.Select(b => b.Name));
        Assert.DoesNotContain(inventory.Backups, b => !b.HasManifest);
        var rotated = _h.Logs.GetSnapshot().Where(r => r.Id.Name == "BackupRotated").ToList();
        Assert.Equal(3, rotated.Count);
        Assert.All(rotated, r => Assert.Equal(LogLevel.Information, r.Level));
    }

    [Fact]
    public async Task CreateAsync_ManifestStepFails_RemovesEveryPartialFileAndKeepsEarlierBackups()
    {
        _h.AddNotes(5);
        var earlier = await BackupAsync();
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        // A directory where the manifest must go makes the final rename fail: a real I/O fault.
        Directory.CreateDirectory(Path.Combine(_h.BackupDirectory, "database_backup_20250114_103001.sqlite.json"));

        var failure = await Assert.ThrowsAsync<BackupFailedException>(() => BackupAsync());

        Assert.Equal("manifest", failure.Step);
        Assert.Contains("database_backup_20250114_103001.sqlite.json", failure.Path, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_h.BackupDirectory, "*.tmp*"));
        Assert.False(File.Exists(Path.Combine(_h.BackupDirectory, "database_backup_20250114_103001.sqlite")));
        Assert.True(File.Exists(earlier.BackupPath));
        Assert.Equal(earlier.Checksum, Sqlite3.Sha256Sum(earlier.BackupPath));
        var logged = Assert.Single(_h.Logs.GetSnapshot(), r => r.Id.Name == "BackupFailed");
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Equal(2003, logged.Id.Id);
        Assert.Equal("manifest", logged.GetStructuredStateValue("Step"));
        Assert.NotNull(_h.Get<BackupActivity>().LastError);
    }

    [Fact]
    public async Task CreateAsync_DatabaseMissing_FailsAtPreflightWithoutCreatingIt()
    {
        var failure = await Assert.ThrowsAsync<BackupFailedException>(() => BackupAsync());

        Assert.Equal("preflight", failure.Step);
        Assert.Contains("does not exist", failure.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_h.DatabasePath));
    }

    [Fact]
    public async Task CreateAsync_LeftoversOfAKilledBackup_AreSweptAndNeverCounted()
    {
        _h.AddNotes(5);
        Directory.CreateDirectory(_h.BackupDirectory);
        var staleTemp = Path.Combine(_h.BackupDirectory, "database_backup_20250101_000000.sqlite.tmp");
        var orphan = Path.Combine(_h.BackupDirectory, "database_backup_20250101_000001.sqlite");
        File.WriteAllText(staleTemp, "half a backup");
        File.WriteAllText(orphan, "a backup that never got its manifest");

        Assert.Empty(BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified);
        await BackupAsync();

        Assert.False(File.Exists(staleTemp));
        Assert.False(File.Exists(orphan));
        Assert.Single(BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified);
    }

    [Fact]
    public async Task CreateIfChangedAsync_UnchangedDatabase_KeepsNothingNew()
    {
        _h.AddNotes(5);
        await BackupAsync();
        _h.Time.Advance(TimeSpan.FromHours(1));

        var again = await _h.Get<BackupService>().CreateIfChangedAsync(_h.Locate(), BackupReason.Startup, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Null(again);
        Assert.Single(BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified);
    }

    [Fact]
    public async Task CreateIfChangedAsync_ChangedDatabase_TakesABackup()
    {
        _h.AddNotes(5);
        var first = await BackupAsync();
        _h.AddNotes(1, "later");
        File.SetLastWriteTimeUtc(_h.DatabasePath, first.Timestamp.UtcDateTime.AddSeconds(5));
        _h.Time.Advance(TimeSpan.FromHours(1));

        var again = await _h.Get<BackupService>().CreateIfChangedAsync(_h.Locate(), BackupReason.Startup, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);

        Assert.NotNull(again);
        Assert.Equal("startup", again.Reason);
        Assert.Equal("6", Sqlite3.Query(again.BackupPath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task CreateAsync_WhileAnotherBackupHoldsTheLock_ReportsInProgressWithoutWaiting()
    {
        _h.AddNotes(5);
        var location = _h.Locate();
        Directory.CreateDirectory(location.BackupDirectory);
        using var held = Emergence.Persistence.Volumes.VolumeLock.TryAcquire(Path.Combine(location.BackupDirectory, BackupService.LockFileName), _h.Time, out _);

        var failure = await Assert.ThrowsAsync<BackupInProgressException>(() =>
            _h.Get<BackupService>().CreateAsync(location, BackupReason.Manual, TimeSpan.Zero, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal("lock", failure.Step);
        Assert.Empty(BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, _h.Time.GetUtcNow()).Backups);
    }

    [Fact]
    public async Task Rotation_ManifestWhoseBackupPathPointsOutside_NeverTouchesThatFile()
    {
        _h.AddNotes(5);
        var outside = Path.Combine(_h.Root, "precious.sqlite");
        File.WriteAllText(outside, "not ours");
        var oldest = await _h.BackupAsync();
        BackupVerifierTests.EditManifest(oldest, m => m["backup_path"] = outside);

        for (var i = 0; i < _h.Options.KeepBackups; i++)
        {
            await _h.BackupAsync();
        }

        Assert.False(File.Exists(oldest.BackupPath));
        Assert.Equal("not ours", File.ReadAllText(outside));
        Assert.Equal(5, BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow()).Verified.Count);
    }
}
