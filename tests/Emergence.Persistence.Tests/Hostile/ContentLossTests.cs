using Emergence.Persistence.Backups;
using Emergence.Persistence.Health;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>A database that suddenly lost its content must never push the last good state out of the backups.</summary>
public sealed class ContentLossTests : IDisposable
{
    private readonly TestHarness _h = new();

    public void Dispose() => _h.Dispose();

    private BackupInventory Scan() => BackupCatalog.Scan(_h.BackupDirectory, _h.DatabasePath, _h.Time.GetUtcNow());

    private async Task HourlyBackupsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _h.BackupAsync(TimeSpan.FromHours(1));
        }
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("drop")]
    public async Task Backups_AfterTheDatabaseLostEveryTable_KeepTheLastGoodBackupAndRestoreIt(string how)
    {
        _h.AddNotes(200);
        var good = await _h.BackupAsync();
        if (how == "truncate")
        {
            Assert.Equal(0, Shell.Run("truncate", "-s", "0", _h.DatabasePath).Exit);
        }
        else
        {
            Assert.Equal(0, Shell.Run("sqlite3", _h.DatabasePath, "DROP TABLE notes;").Exit);
        }

        await HourlyBackupsAsync(_h.Options.KeepBackups + 2);

        var inventory = Scan();
        Assert.Contains(inventory.Verified, b => b.Name == good.Filename);
        Assert.Equal(good.Filename, inventory.NewestGood!.Name);
        Assert.Equal(good.Filename, inventory.RestoreCandidates[0].Name);
        Assert.True(inventory.Verified[0].IsSuspect);
        Assert.Contains(_h.Logs.GetSnapshot(), r => r.Id.Name == "BackupSuspect");

        var report = _h.Get<HealthReporter>().Check(_h.Locate());
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains(report.Problems, p => p.Contains("has lost its content", StringComparison.Ordinal) && p.Contains($"emergence-db restore {good.Filename} --force", StringComparison.Ordinal));

        var recovered = await _h.WithVolumeLock((location, held) => _h.Get<DatabaseRecovery>().RecoverAsync(location, held, TestContext.Current.CancellationToken));
        Assert.Equal(good.Filename, recovered.Restore!.Backup.Filename);
        Assert.Equal("200", Sqlite3.Query(_h.DatabasePath, "SELECT count(*) FROM notes;"));
    }

    [Fact]
    public async Task Rotation_RunOfIdenticalBackups_DoesNotPushOutOlderDistinctOnes()
    {
        var distinct = new List<string>();
        for (var i = 0; i < _h.Options.KeepBackups; i++)
        {
            _h.AddNotes(1, $"v{i}");
            distinct.Add((await _h.BackupAsync()).Filename);
        }

        await HourlyBackupsAsync(_h.Options.KeepBackups * 3);

        // The last distinct one has the run's content: a newer backup holds it. The older ones all stay.
        var names = Scan().Verified.Select(b => b.Name).ToList();
        Assert.All(distinct.Take(distinct.Count - 1), name => Assert.Contains(name, names));
    }

    [Fact]
    public void ContentLoss_LostEveryTable_OnlyWhenTheBaselineHadTables()
    {
        Assert.NotNull(ContentLoss.LostEveryTable(Manifest("a", schemaObjects: 3), 0));
        Assert.Null(ContentLoss.LostEveryTable(Manifest("a", schemaObjects: 3), 1));
        Assert.Null(ContentLoss.LostEveryTable(Manifest("a", schemaObjects: 0), 0));
        Assert.Null(ContentLoss.LostEveryTable(null, 0));
        // A manifest from before schema_objects: judged by its page count.
        Assert.NotNull(ContentLoss.LostEveryTable(Manifest("a", schemaObjects: null, pages: 10), 0));
        Assert.Null(ContentLoss.LostEveryTable(Manifest("a", schemaObjects: null, pages: 1), 0));
    }

    internal static BackupManifest Manifest(string name, long? schemaObjects = 2, long pages = 10, int userVersion = 1, string? content = null, DateTimeOffset? at = null, long? sequence = null, string? suspect = null) => new()
    {
        Timestamp = at ?? TestHarness.Start,
        Filename = name,
        Size = pages * 4096,
        Checksum = new string('a', 64),
        ContentChecksum = content ?? name,
        SourcePath = "/data/database.sqlite",
        BackupPath = "/data/backups/" + name,
        Reason = "scheduled",
        QuickCheck = "ok",
        SqliteVersion = "3",
        PageSize = 4096,
        PageCount = pages,
        UserVersion = userVersion,
        SchemaObjects = schemaObjects,
        Sequence = sequence,
        Suspect = suspect,
    };
}
