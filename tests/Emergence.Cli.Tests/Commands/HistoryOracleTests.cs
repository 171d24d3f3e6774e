using System.Diagnostics;
using System.Globalization;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary>
/// The history oracle, with real processes: a sqlite3 writer commits transactions that each write two tables (a
/// counter and a numbered row carrying its commit time), while <c>emergence-db replicate</c> is SIGKILLed at random
/// and kept down a while, other processes checkpoint (<c>PASSIVE</c>, <c>RESTART</c>, <c>TRUNCATE</c>), and the
/// writer closes its connection (SQLite then checkpoints and deletes the <c>-wal</c>). Then restores to many random
/// points, on the volume and from the container, must each give exactly the state after one commit (the counter
/// equals the rows, which are 1..counter) with no commit made after the point, or refuse and say why.
/// </summary>
public sealed class HistoryOracleTests : ReplicatorProcessTest
{
    // A commit is seen at the poll after it: within one interval, plus the time a poll takes on a busy machine.
    private static readonly TimeSpan SeenWithin = Interval + TimeSpan.FromSeconds(1.5);

    private static readonly string[] CheckpointModes = ["PASSIVE", "RESTART", "TRUNCATE"];

    private readonly Random _random = new(20261202);
    private readonly List<string> _refusals = [];

    public HistoryOracleTests()
        : base("CREATE TABLE counter (k INTEGER NOT NULL); INSERT INTO counter VALUES (0); CREATE TABLE rows (n INTEGER PRIMARY KEY, at TEXT NOT NULL, pad BLOB NOT NULL);")
    {
    }

    /// <summary>Each commit updates the counter and inserts the row numbered by it, stamped with the commit time.</summary>
    private const string CommitBoth = "BEGIN IMMEDIATE; UPDATE counter SET k = k + 1; INSERT INTO rows (n, at, pad) SELECT k, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), randomblob(200) FROM counter; COMMIT;";

    /// <summary>Starts the replicator, its wall clock stepped by <paramref name="fakeOffset"/> (a libfaketime offset) when given.</summary>
    private Process StartReplicatorAt(string? fakeOffset)
    {
        var environment = new Dictionary<string, string?>();
        if (fakeOffset is not null)
        {
            // libfaketime: the replicator's wall clock stepped (the monotonic clock is left alone, as NTP leaves it).
            var library = Directory.GetDirectories("/usr/lib").Select(d => Path.Combine(d, "faketime", "libfaketime.so.1")).FirstOrDefault(File.Exists);
            Assert.True(library is not null, "libfaketime is not installed (apt-get install faketime)");
            environment["LD_PRELOAD"] = library;
            environment["FAKETIME"] = fakeOffset;
            environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
            environment["DONT_FAKE_MONOTONIC"] = "1";
        }

        return StartReplicator(environment);
    }

    private void Checkpoint(string mode) =>
        Shell.Run("sqlite3", "-batch", "-cmd", ".timeout 3000", Cli.DatabasePath, $"PRAGMA wal_checkpoint({mode});");

    private static void WriteFor(ShellWriter writer, TimeSpan duration) => WriteFor(writer, duration, pauseMilliseconds: 4);

    /// <summary>The writer under a hostile schedule; returns the periods the replicator was down (not seeing commits), in real time.</summary>
    private List<(DateTimeOffset From, DateTimeOffset To)> RunHostile(int rounds, Func<int, string?> fakeOffset)
    {
        var down = new List<(DateTimeOffset, DateTimeOffset)>();
        var writer = new ShellWriter(Cli.DatabasePath, CommitBoth);
        var replicator = StartReplicatorAt(fakeOffset(0));
        try
        {
            WriteFor(writer, TimeSpan.FromSeconds(2));
            for (var round = 1; round <= rounds; round++)
            {
                HostileRound(round, fakeOffset, ref writer, ref replicator, down);
            }

            writer.Close();
            StopCleanly(replicator, restartOnTrueClock: fakeOffset(rounds + 1) is null && fakeOffset(0) is not null);
        }
        finally
        {
            writer.Dispose();
        }

        return down;
    }

    /// <summary>
    /// One round of the hostile schedule, at random: the replicator SIGKILLed and kept down while commits go on (the
    /// time it was down added to <paramref name="down"/>), a checkpoint, the writer's connection closed, or nothing;
    /// then commits for a while.
    /// </summary>
    private void HostileRound(int round, Func<int, string?> fakeOffset, ref ShellWriter writer, ref Process replicator, List<(DateTimeOffset, DateTimeOffset)> down)
    {
        switch (_random.Next(4))
        {
            case 0:
                // The replicator is SIGKILLed at a random moment and kept down while commits go on.
                var killedAt = DateTimeOffset.UtcNow;
                replicator.Kill();
                replicator.WaitForExit();
                WriteFor(writer, TimeSpan.FromMilliseconds(300 + _random.Next(1200)));
                if (_random.Next(2) == 0)
                {
                    Checkpoint(_random.Next(2) == 0 ? "TRUNCATE" : "RESTART");
                }

                replicator = StartReplicatorAt(fakeOffset(round));
                down.Add((killedAt, DateTimeOffset.UtcNow));
                break;
            case 1:
                Checkpoint(CheckpointModes[_random.Next(3)]);
                break;
            case 2:
                // The app closes its last connection: the -wal is checkpointed and deleted.
                writer.Close();
                writer.Dispose();
                writer = new ShellWriter(Cli.DatabasePath, CommitBoth);
                break;
            default:
                break;
        }

        WriteFor(writer, TimeSpan.FromMilliseconds(500 + _random.Next(1000)));
    }

    /// <summary>
    /// The end of a hostile run, once the writer has stopped: the replicator, restarted on the true clock when
    /// <paramref name="restartOnTrueClock"/>, catches up and then stops cleanly on SIGTERM, exit 0.
    /// </summary>
    private void StopCleanly(Process replicator, bool restartOnTrueClock)
    {
        if (restartOnTrueClock)
        {
            // The last incarnation on the true clock, so its record says when it caught up. The record an
            // incarnation an hour ahead left would already say so: it goes, so the wait below is for this one
            // (a SIGTERM before it has started is not the clean stop this test is about).
            replicator.Kill();
            replicator.WaitForExit();
            File.Delete(Path.Combine(Cli.BackupDirectory, ".replication.json"));
            replicator = StartReplicatorAt(null);
        }

        // Once every commit is seen, the replicator stops cleanly on SIGTERM, exit 0.
        WaitUntilCaughtUp();
        Assert.Equal(0, Shell.Run("kill", "-TERM", replicator.Id.ToString(CultureInfo.InvariantCulture)).Exit);
        Assert.True(replicator.WaitForExit(60_000), "replicate did not stop on SIGTERM");
        Assert.Equal(0, replicator.ExitCode);
    }

    /// <summary>Every row's commit time, by number, read from the database as committed.</summary>
    private Dictionary<int, DateTimeOffset> Truth()
    {
        var rows = Sqlite3.Query(Cli.DatabasePath, "SELECT n || '|' || at FROM rows ORDER BY n;");
        return rows.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('|'))
            .ToDictionary(p => int.Parse(p[0], CultureInfo.InvariantCulture), p => Parse(p[1]));
    }

    /// <summary>The restored state: the counter, and whether the rows are exactly 1..counter.</summary>
    private (int K, bool Exact) State()
    {
        Assert.Equal("ok", Sqlite3.Query(Cli.DatabasePath, "PRAGMA integrity_check;"));
        var k = int.Parse(Sqlite3.Query(Cli.DatabasePath, "SELECT k FROM counter;"), CultureInfo.InvariantCulture);
        var rows = Sqlite3.Query(Cli.DatabasePath, "SELECT count(*) || ',' || coalesce(max(n), 0) FROM rows;");
        return (k, rows == $"{k},{k}");
    }

    /// <summary>Restores to each point; returns, per point, the commit restored (null when the restore refused).</summary>
    private List<(DateTimeOffset Point, int? K)> RestoreEach(IEnumerable<DateTimeOffset> points, params string[] extra)
    {
        var results = new List<(DateTimeOffset, int?)>();
        foreach (var point in points)
        {
            var text = point.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            var (exit, _, error) = Cli.RunProcess(["restore", "--to", text, "--force", .. extra]);
            if (exit != 0)
            {
                Assert.Equal(1, exit);
                Assert.False(string.IsNullOrWhiteSpace(error), "a refused restore says why");
                _refusals.Add($"{text}: {error.Trim()}");
                results.Add((point, null));
                continue;
            }

            var (k, exact) = State();
            Assert.True(exact, $"restore --to {text} gave a state no commit left: counter {k} but other rows");
            results.Add((point, k));
        }

        return results;
    }

    private static void AssertNoCommitAfterThePoint(List<(DateTimeOffset Point, int? K)> results, Dictionary<int, DateTimeOffset> truth, List<(DateTimeOffset From, DateTimeOffset To)> down)
    {
        foreach (var (point, k) in results.Where(r => r.K is > 0))
        {
            Assert.True(truth[k!.Value] <= point, $"--to {point:O} restored commit {k}, made at {truth[k.Value]:O}: after the point");
            var running = !down.Any(d => point >= d.From - SeenWithin && point <= d.To + SeenWithin + SeenWithin);
            if (running && truth.TryGetValue(k.Value + 1, out var next))
            {
                Assert.True(next > point - SeenWithin - SeenWithin, $"--to {point:O} restored commit {k}, but commit {k + 1} made at {next:O} was seen long before the point");
            }
        }
    }

    [Fact]
    public void RestoresToRandomPoints_UnderKillsCheckpointsAndClosedConnections_GiveExactStates_OnTheVolumeAndFromTheContainer()
    {
        StartContainer("oracle");
        var started = DateTimeOffset.UtcNow;

        var down = RunHostile(rounds: 10, _ => null);
        var truth = Truth();
        var ended = DateTimeOffset.UtcNow;
        Assert.True(truth.Count > 500, $"the writer committed only {truth.Count} transactions");

        // The offline audit proves every segment of every generation from its base.
        var audit = Cli.RunProcess("verify", "--timeline");
        Assert.True(audit.Exit == 0, audit.Out + audit.Err);

        // The newest point first: every restore after it ends the history at its own time.
        var latest = Cli.RunProcess("restore", "--latest", "--force");
        Assert.True(latest.Exit == 0, latest.Err);
        Assert.Equal((truth.Count, true), State());

        var points = Enumerable.Range(0, 100).Select(_ => started + ((ended - started) * _random.NextDouble())).Order().ToList();
        var local = RestoreEach(points);
        Assert.True(local.Count(r => r.K is not null) >= 90, $"{local.Count(r => r.K is null)} of 100 restores refused: {string.Join(" | ", _refusals.Take(5))}");
        AssertNoCommitAfterThePoint(local, truth, down);
        var ks = local.Where(r => r.K is not null).Select(r => r.K!.Value).ToList();
        Assert.Equal(ks.Order(), ks); // a later point never gives an earlier state

        var offsite = RestoreEach(points.Where((_, i) => i % 4 == 0), "--offsite");
        Assert.True(offsite.Count(r => r.K is not null) >= 20, $"{offsite.Count(r => r.K is null)} of 25 restores from the container refused: {string.Join(" | ", _refusals.TakeLast(5))}");
        AssertNoCommitAfterThePoint(offsite, truth, down);
    }

    [Fact]
    public void ClocksThatStep_UnderTheReplicator_NeverGiveAMixedState_AndLatestHasEveryCommit()
    {
        var started = DateTimeOffset.UtcNow;
        string?[] offsets = ["+1h", "-30m", "+5", "-1h"];

        RunHostile(rounds: 8, round => round > 8 ? null : offsets[round % offsets.Length]);
        var truth = Truth();
        var ended = DateTimeOffset.UtcNow;

        var latest = Cli.RunProcess("restore", "--latest", "--force");
        Assert.True(latest.Exit == 0, latest.Err);
        Assert.Equal((truth.Count, true), State());

        var points = Enumerable.Range(0, 40).Select(_ => started - TimeSpan.FromHours(1) + ((ended - started + TimeSpan.FromHours(2)) * _random.NextDouble())).Order();
        RestoreEach(points); // each one exact (asserted inside) or refused with a reason
    }
}
