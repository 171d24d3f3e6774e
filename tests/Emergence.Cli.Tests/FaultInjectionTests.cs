using System.Diagnostics;
using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests;

/// <summary>
/// Real faults against the real <c>emergence-db</c> process: SIGKILL mid-backup and mid-restore, a
/// redeploy on a real mount, an instance waiting for a killed one's lock. The sqlite3 shell checks the
/// outcome independently.
/// </summary>
public sealed class FaultInjectionTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string DataDirectory => Path.GetDirectoryName(_cli.DatabasePath)!;

    /// <summary>A WAL database of about <paramref name="megabytes"/> MiB with <c>rows</c> counted in <c>notes</c>.</summary>
    private void CreateLargeDatabase(int megabytes)
    {
        Directory.CreateDirectory(DataDirectory);
        var rows = megabytes * 1024;
        Sqlite3Write(_cli.DatabasePath, $"""
            PRAGMA journal_mode = WAL;
            CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
            INSERT INTO notes (body) SELECT randomblob(1000) FROM n;
            """);
    }

    private static void Sqlite3Write(string database, string sql)
    {
        var (exit, _, error) = Shell.Run("sqlite3", "-batch", "-cmd", ".timeout 10000", database, sql);
        Assert.True(exit == 0, error);
    }

    private static int Notes(string database) => int.Parse(Sqlite3.Query(database, "SELECT count(*) FROM notes;"), System.Globalization.CultureInfo.InvariantCulture);

    private static void KillWhen(Process process, Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited)
            {
                Assert.Fail($"the process finished (exit {process.ExitCode}) before {what}: {process.StandardError.ReadToEnd()}");
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"timed out waiting for {what}");
            Thread.Sleep(2);
        }

        process.Kill(); // SIGKILL: no handler, no cleanup.
        process.WaitForExit();
    }

    private static long SizeOf(string path) => new FileInfo(path) is { Exists: true } file ? file.Length : 0;

    [Fact]
    public void KilledMidBackup_DatabaseIntact_PartialNeverCounted_AndSweptOnNextStart()
    {
        CreateLargeDatabase(120);
        Assert.Equal(0, _cli.RunProcess("startup").Exit);
        var before = JsonDocument.Parse(_cli.RunProcess("list", "--json").Out).RootElement.GetArrayLength();

        using var backup = _cli.StartProcess("backup");
        KillWhen(backup, () => Directory.GetFiles(_cli.BackupDirectory, "*.sqlite.tmp").Any(f => SizeOf(f) > (16 << 20)), "the backup was half written");

        var leftovers = Directory.GetFiles(_cli.BackupDirectory, "*.tmp*");
        Assert.NotEmpty(leftovers);
        Assert.Equal("ok", Sqlite3.Query(_cli.DatabasePath, "PRAGMA integrity_check;"));
        var listed = JsonDocument.Parse(_cli.RunProcess("list", "--json").Out).RootElement;
        Assert.Equal(before, listed.GetArrayLength());
        Assert.All(listed.EnumerateArray(), row => Assert.True(row.GetProperty("verified").GetBoolean()));

        var restart = _cli.RunProcess("startup", "--verbose");

        Assert.Equal(0, restart.Exit);
        Assert.Empty(Directory.GetFiles(_cli.BackupDirectory, "*.tmp*"));
        Assert.Contains("[BackupLeftoversSwept]", restart.Err, StringComparison.Ordinal);
        Assert.Equal(122_880, Notes(_cli.DatabasePath));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    [InlineData(100)]
    public void KilledMidRestore_OldOrRestoredDatabaseIsWhole_AndQuarantineHoldsWhatWasReplaced(int killAfterMegabytes)
    {
        CreateLargeDatabase(100);
        Assert.Equal(0, _cli.RunProcess("startup").Exit);
        var backedUp = Notes(_cli.DatabasePath);
        Sqlite3Write(_cli.DatabasePath, "INSERT INTO notes (body) SELECT randomblob(10) FROM notes LIMIT 500;");
        var current = backedUp + 500;
        var staging = Path.Combine(DataDirectory, ".database.sqlite.restore.tmp");

        using var restore = _cli.StartProcess("restore", "--latest", "--force");
        KillWhen(restore, () => SizeOf(staging) >= (long)killAfterMegabytes << 20 || restore.HasExited, $"{killAfterMegabytes} MiB were staged");

        Assert.Equal("ok", Sqlite3.Query(_cli.DatabasePath, "PRAGMA integrity_check;"));
        Assert.Contains(Notes(_cli.DatabasePath), new[] { backedUp, current });
        var restart = _cli.RunProcess("startup");
        Assert.Equal(0, restart.Exit);
        Assert.False(File.Exists(staging));
        var after = Notes(_cli.DatabasePath);
        Assert.Contains(after, new[] { backedUp, current });
        if (after == backedUp)
        {
            var quarantined = Directory.GetFiles(Path.Combine(_cli.BackupDirectory, "quarantine"), "database.sqlite", SearchOption.AllDirectories);
            Assert.Equal(current, Notes(Assert.Single(quarantined)));
        }
    }

    [Fact]
    public void SecondInstance_WaitsForTheLockAndProceedsWhenTheHolderIsKilled()
    {
        Assert.Equal(0, _cli.RunProcess("startup").Exit);
        var lockPath = Path.Combine(DataDirectory, ".emergence.lock");
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", lockPath, "sleep", "120"]))!;
        WaitUntilLocked(lockPath, holder);
        _cli.Settings["Persistence__LockTimeoutSeconds"] = "60";

        using var second = _cli.StartProcess("startup");
        var errors = new System.Text.StringBuilder();
        second.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } };
        second.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (!Snapshot(errors).Contains("[LockWaiting]", StringComparison.Ordinal))
        {
            Assert.False(second.HasExited, "the second instance did not wait for the lock");
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "no LockWaiting event");
            Thread.Sleep(20);
        }

        Assert.False(second.HasExited);
        holder.Kill(entireProcessTree: true);
        Assert.True(second.WaitForExit(30_000), "the second instance never got the lock");

        Assert.Equal(0, second.ExitCode);
        Assert.Contains(lockPath, Snapshot(errors), StringComparison.Ordinal);
    }

    /// <summary>Waits until <paramref name="holder"/> really holds the lock: a non-blocking <c>flock</c> probe fails to take it.</summary>
    private static void WaitUntilLocked(string lockPath, Process holder)
    {
        var waited = Stopwatch.StartNew();
        while (Shell.Run("flock", "--nonblock", "--exclusive", lockPath, "true").Exit == 0)
        {
            Assert.False(holder.HasExited, $"the lock holder exited before it took {lockPath}");
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"the holder never took {lockPath}");
            Thread.Sleep(20);
        }
    }

    private static string Snapshot(System.Text.StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    [Fact]
    public void RedeployOnARealMount_KeepsTheRowsAndTakesAStartupBackup()
    {
        Privileges.RequireRoot("mount a tmpfs as the volume");
        using var volume = new TmpfsMount(DataDirectory, "64m");
        _cli.Settings["Persistence__RequireVolume"] = "true";
        _cli.Settings["RAILWAY_VOLUME_MOUNT_PATH"] = DataDirectory;

        var first = _cli.RunProcess("startup");
        Sqlite3Write(_cli.DatabasePath, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL); INSERT INTO notes (body) VALUES ('a'), ('b'), ('c');");
        Thread.Sleep(1100); // the next backup's name is per second
        var second = _cli.RunProcess("startup", "--json");

        Assert.True(first.Exit == 0, first.Out + first.Err);
        Assert.Contains("created the database", first.Out, StringComparison.Ordinal);
        Assert.True(second.Exit == 0, second.Out + second.Err);
        var report = JsonDocument.Parse(second.Out).RootElement;
        Assert.Equal("healthy", report.GetProperty("status").GetString());
        Assert.True(report.GetProperty("volume").GetProperty("mounted").GetBoolean());
        Assert.Equal("tmpfs", report.GetProperty("volume").GetProperty("filesystem").GetString());
        Assert.Equal(3, Notes(_cli.DatabasePath));
        var latest = report.GetProperty("backups").GetProperty("latest");
        Assert.Equal("startup", latest.GetProperty("reason").GetString());
        Assert.Equal(3, Notes(latest.GetProperty("backup_path").GetString()!));
        Assert.Equal(2, report.GetProperty("backups").GetProperty("count").GetInt32());
    }

    [Fact]
    public void VolumeNotMounted_StatusIsUnhealthyNamingThePath_AndBothPathsWhenRailwaySaysOtherwise()
    {
        // The temp directory is on the machine's root file system: not a mounted volume.
        _cli.Settings["Persistence__RequireVolume"] = "true";
        Assert.Equal(2, _cli.RunProcess("startup").Exit);

        var plain = JsonDocument.Parse(_cli.RunProcess("status", "--json").Out).RootElement;
        _cli.Settings["RAILWAY_VOLUME_MOUNT_PATH"] = "/app/data";
        var railway = _cli.RunProcess("status", "--json");
        var railwayReport = JsonDocument.Parse(railway.Out).RootElement;

        Assert.Contains(plain.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith($"The database directory {DataDirectory} is not a mounted volume", StringComparison.Ordinal));
        Assert.Equal(2, railway.Exit);
        Assert.Contains(railwayReport.GetProperty("problems").EnumerateArray(), p =>
            p.GetString()!.Contains("/app/data", StringComparison.Ordinal) && p.GetString()!.Contains(DataDirectory, StringComparison.Ordinal));
    }
}
