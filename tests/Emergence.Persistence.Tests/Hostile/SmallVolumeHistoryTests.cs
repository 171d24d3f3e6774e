using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Hostile;

/// <summary>
/// The space budget on a real small volume (a tmpfs): a writer rewriting large rows makes many times the volume's size
/// of history while the replicator runs and backups are taken as the schedule would; the history is thinned as soon
/// as it would take the room the database and its next backup need, so the writer never fails for want of space,
/// every backup is written, and health says how far back points now go.
/// </summary>
public sealed class SmallVolumeHistoryTests : IDisposable
{
    private const int Rows = 8;
    private const int RowBytes = 64 << 10;
    private readonly string _root = Directory.CreateTempSubdirectory("emergence-budget-").FullName;

    public void Dispose()
    {
        Shell.Run("umount", "-l", Path.Combine(_root, "data"));
        Directory.Delete(_root, recursive: true);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The harness on the small volume: the database required on it, its log checkpointed past 1 MiB, real time.</summary>
    private TestHarness Harness() => new(
        new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = Path.Combine(_root, "data", "database.sqlite"),
            ["Persistence:RequireVolume"] = "true",
            ["Persistence:Replication:CheckpointBytes"] = (1L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        root: _root,
        realTime: true);

    /// <summary>
    /// Each commit rewrites one 64 KiB row: about 17 pages of log, copied into the history. Until <paramref name="bytes"/>
    /// went through the history, with a backup every 50 commits (as the hourly schedule would, sped up: history older than
    /// the newest backup is what thinning may take). Returns the commits and backups that failed (it stops at five).
    /// </summary>
    private static async Task<List<string>> RewriteRowsAsync(SqliteConnection writer, BackupService backups, DatabaseLocation location, long bytes)
    {
        var errors = new List<string>();
        var written = 0L;
        for (var commit = 1; written < bytes && errors.Count < 5; commit++)
        {
            try
            {
                Execute(writer, $"UPDATE blobs SET pad = randomblob({RowBytes}) WHERE n = {(commit % Rows) + 1}");
                written += RowBytes;
                if (commit % 50 == 0)
                {
                    await backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromSeconds(30), cancellationToken: TestContext.Current.CancellationToken);
                }
            }
            catch (Exception ex) when (ex is SqliteException or BackupFailedException)
            {
                errors.Add($"commit {commit}: {ex.Message}");
            }

            // At most 50 commits a second: a second of history (the most a poll can find) is a tenth of the volume.
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return errors;
    }

    [Fact]
    public async Task HistoryOfManyTimesTheVolume_IsThinnedInTime_TheWriterAndTheBackupsNeverRunOutOfSpace_AndHealthSaysSo()
    {
        Privileges.RequireRoot("mount a small tmpfs");
        const long VolumeBytes = 32L << 20;
        using var volume = new TmpfsMount(Path.Combine(_root, "data"), "32m");
        using var h = Harness();
        var connections = h.Get<SqliteConnectionFactory>();
        using var writer = connections.OpenOrCreate(h.DatabasePath);
        Execute(writer, $"CREATE TABLE blobs (n INTEGER PRIMARY KEY, pad BLOB NOT NULL); WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {Rows}) INSERT INTO blobs SELECT n, randomblob({RowBytes}) FROM k;");
        var location = h.Locate();
        var backups = h.Get<BackupService>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var replicating = Task.Run(() => h.Get<Replicator>().RunAsync(location, stop.Token), CancellationToken.None);
        try
        {
            var errors = await RewriteRowsAsync(writer, backups, location, 3 * VolumeBytes);

            Assert.True(errors.Count == 0, string.Join(" | ", errors));
            Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Name == "HistoryThinned");
            var report = h.Get<HealthReporter>().Check(location);
            Assert.Contains("thinned", report.Backups.Replication!.WindowProblem ?? "", StringComparison.Ordinal);
            Assert.NotEqual(HealthStatus.Healthy, report.Status);
        }
        finally
        {
            await stop.CancelAsync();
            await replicating.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        }

        Assert.True(new DriveInfo(volume.Path).AvailableFreeSpace > 0);
    }
}
