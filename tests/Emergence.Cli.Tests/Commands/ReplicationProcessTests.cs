using System.Diagnostics;
using System.Globalization;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary>
/// Replication between real processes: a sqlite3 writer committing numbered rows stamped with their commit
/// time, <c>emergence-db replicate</c> beside it, either SIGKILLed at random moments and restarted, then the
/// database wiped and restored; and restores to many points of a steady stretch. The sqlite3 CLI reads the results.
/// </summary>
public sealed class ReplicationProcessTests : ReplicatorProcessTest
{
    // A commit is seen at the poll after it: within one interval, plus the time a poll takes on a busy machine.
    private static readonly TimeSpan SeenWithin = Interval + TimeSpan.FromSeconds(1);

    // A closed segment is in the container at the uploader's next pass, an interval later, plus a request or two.
    private static readonly TimeSpan UploadedWithin = Interval + TimeSpan.FromSeconds(2);

    public ReplicationProcessTests()
        : base("CREATE TABLE rows (n INTEGER PRIMARY KEY, at TEXT NOT NULL, pad BLOB NOT NULL);")
    {
    }

    /// <summary>Each commit inserts the next row with its commit time.</summary>
    private const string InsertNext = "INSERT INTO rows (n, at, pad) SELECT coalesce(max(n), 0) + 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), randomblob(200) FROM rows;";

    private static void Kill(Process process)
    {
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Writes for <paramref name="duration"/>, a commit every few milliseconds.</summary>
    private static void WriteFor(ShellWriter writer, TimeSpan duration) => WriteFor(writer, duration, pauseMilliseconds: 5);

    private static string Query(string database, string sql) => Sqlite3.Query(database, sql);

    private string Truth()
    {
        // Everything is stopped: a copy of the database and its log is the history as committed.
        var truth = Path.Combine(Cli.Root, "truth.sqlite");
        File.Copy(Cli.DatabasePath, truth, overwrite: true);
        if (File.Exists(Cli.DatabasePath + "-wal"))
        {
            File.Copy(Cli.DatabasePath + "-wal", truth + "-wal", overwrite: true);
        }

        Assert.Equal("ok", Shell.Run("sqlite3", "-batch", truth, "PRAGMA integrity_check;").Output.Trim());
        return truth;
    }

    private void Wipe()
    {
        foreach (var file in new[] { Cli.DatabasePath, Cli.DatabasePath + "-wal", Cli.DatabasePath + "-shm" })
        {
            File.Delete(file);
        }
    }

    private (int Count, int Max, DateTimeOffset? Newest) Restored()
    {
        Assert.Equal("ok", Query(Cli.DatabasePath, "PRAGMA integrity_check;"));
        var count = int.Parse(Query(Cli.DatabasePath, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        var max = int.Parse(Query(Cli.DatabasePath, "SELECT coalesce(max(n), 0) FROM rows;"), CultureInfo.InvariantCulture);
        var newest = Query(Cli.DatabasePath, "SELECT coalesce(max(at), '') FROM rows;");
        return (count, max, newest.Length == 0 ? null : Parse(newest));
    }

    /// <summary>Writes for a few seconds, then six times writes a little longer and SIGKILLs and restarts the writer or the replicator, at random.</summary>
    private void KillAtRandom(Random random, ref ShellWriter writer, ref Process replicator)
    {
        WriteFor(writer, TimeSpan.FromSeconds(3));
        for (var round = 0; round < 6; round++)
        {
            WriteFor(writer, TimeSpan.FromMilliseconds(random.Next(500, 2500)));
            if (random.Next(2) == 0)
            {
                Mark($"round {round}: the writer is killed and restarted");
                writer.Kill();
                writer.Dispose();
                writer = new ShellWriter(Cli.DatabasePath, InsertNext);
            }
            else
            {
                Mark($"round {round}: the replicator is killed and restarted");
                Kill(replicator);
                replicator = StartReplicator();
            }
        }
    }

    /// <remarks>
    /// A writer SIGKILLed while it commits can leave its transaction whole in the <c>-wal</c> but not yet published in
    /// the wal-index (under load, the kill often lands in the commit's fsync). While the replicator runs, its connections
    /// keep the wal-index as it is: no reader sees that transaction, and the next writer writes over it. Once every
    /// process has gone, the next to open the database rebuilds the wal-index from the log and counts it. So the rows
    /// owed are the ones published when the replicator died (read through the wal-index it still held), and the copy
    /// opened after everything stopped may hold one transaction more: the one the last writer never saw committed.
    /// </remarks>
    [Fact]
    public void KilledAtRandom_ThenVolumeWiped_TheLatestRestoreHasEveryRow()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var writer = new ShellWriter(Cli.DatabasePath, InsertNext);
        var replicator = StartReplicator();
        int published;
        try
        {
            KillAtRandom(random, ref writer, ref replicator);

            WriteFor(writer, TimeSpan.FromSeconds(2));
            Mark("the writer is killed");
            writer.Kill();

            // The replicator runs on until it has caught up past the last commit, then dies.
            WaitUntilCaughtUp();
            published = int.Parse(Query(Cli.DatabasePath, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
            Mark($"the replicator is killed ({published} rows published)");
            Kill(replicator);
        }
        finally
        {
            writer.Dispose();
        }

        var truth = Truth();
        var recovered = int.Parse(Query(truth, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        Wipe();

        var restore = Cli.RunProcess("restore", "--latest", "--force");

        Assert.True(restore.Exit == 0, $"seed {seed}: {restore.Err}");
        var (count, max, _) = Restored();
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {published} rows published when the replicator was killed, {recovered} in the database opened after, {count} restored");
        Assert.True(count == max, $"seed {seed}: rows 1..{max} are not all there ({count})\n{ReplicatorLog}");
        Assert.True(count == published, $"seed {seed}: {published} rows were committed, {count} restored\n{restore.Out}\n{ReplicatorLog}");
        Assert.True(recovered - published is 0 or 1, $"seed {seed}: {published} rows were published, {recovered} are in the database opened after every process stopped");
    }

    [Fact]
    public void RestoreTo_ManyPointsOfASteadyStretch_GivesAPrefixWithNothingAfterThePoint()
    {
        var replicator = StartReplicator();
        using (var writer = new ShellWriter(Cli.DatabasePath, InsertNext))
        {
            WriteFor(writer, TimeSpan.FromSeconds(9));
        }

        WaitUntilCaughtUp();
        Kill(replicator);
        var truth = Truth();
        var first = Parse(Query(truth, "SELECT min(at) FROM rows;"));
        var last = Parse(Query(truth, "SELECT max(at) FROM rows;"));

        // Points from 3 s in (the generation's snapshot is taken as the replicator starts) to the end.
        for (var target = first + TimeSpan.FromSeconds(3); target <= last; target += TimeSpan.FromMilliseconds(700))
        {
            var text = target.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var restore = Cli.RunProcess("restore", "--to", text, "--force");
            Assert.True(restore.Exit == 0, $"--to {text}: {restore.Err}");

            var (count, max, newest) = Restored();
            var mustHave = int.Parse(Query(truth, $"SELECT count(*) FROM rows WHERE at <= '{(target - SeenWithin).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}';"), CultureInfo.InvariantCulture);
            Assert.True(count == max, $"--to {text}: rows 1..{max} are not all there ({count})");
            Assert.True(newest is null || newest <= target, $"--to {text}: a row committed at {newest:O} is restored");
            Assert.True(count >= mustHave, $"--to {text}: {mustHave} rows were committed more than {SeenWithin.TotalSeconds} s before, {count} restored");
        }
    }

    [Fact]
    public void KilledAtRandom_ThenBothKilledAndTheVolumeLost_TheOffsiteRestoreHasEveryRowOlderThanIntervalPlusUpload()
    {
        StartContainer("replication");
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var writer = new ShellWriter(Cli.DatabasePath, InsertNext);
        var replicator = StartReplicator();
        DateTimeOffset killedAt;
        try
        {
            KillAtRandom(random, ref writer, ref replicator);

            // Both die while rows are still being committed, with no grace period.
            WriteFor(writer, TimeSpan.FromSeconds(4));
            killedAt = DateTimeOffset.UtcNow;
            Mark("the replicator and then the writer are killed");
            Kill(replicator);
            writer.Kill();
        }
        finally
        {
            writer.Dispose();
        }

        var truth = Truth();
        var cutoff = (killedAt - SeenWithin - UploadedWithin).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var mustHave = int.Parse(Query(truth, $"SELECT count(*) FROM rows WHERE at <= '{cutoff}';"), CultureInfo.InvariantCulture);
        var committed = int.Parse(Query(truth, "SELECT count(*) FROM rows;"), CultureInfo.InvariantCulture);
        // A new, empty volume at the same mount point: the database and every backup are gone.
        var volume = new DirectoryInfo(Path.GetDirectoryName(Cli.DatabasePath)!);
        foreach (var entry in volume.EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        var restore = Cli.RunProcess("restore", "--latest", "--offsite", "--force");

        Assert.True(restore.Exit == 0, $"seed {seed}: {restore.Err}");
        var (count, max, newest) = Restored();
        var lost = newest is { } n ? $"{(killedAt - n).TotalSeconds:0.00} s" : "everything";
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {committed} rows committed, {mustHave} more than {(SeenWithin + UploadedWithin).TotalSeconds} s before the kill, {count} restored from the container; the newest restored row was committed {lost} before the kill");
        Assert.True(count == max, $"seed {seed}: rows 1..{max} are not all there ({count})");
        Assert.True(count >= mustHave, $"seed {seed}: {mustHave} rows were committed more than {(SeenWithin + UploadedWithin).TotalSeconds} s before the kill, {count} restored (of {committed})\n{restore.Out}\n{ReplicatorLog}");
        Assert.True(count <= committed, $"seed {seed}: {count} rows restored, only {committed} committed");
    }
}
