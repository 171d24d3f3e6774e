using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary>
/// What the tests of <c>emergence-db replicate</c> as a real process share: a database in WAL mode, made by the sqlite3
/// CLI with the tables a test gives, polled every <see cref="Interval"/>; the replicators a test starts (any still running
/// are killed at the end); a sqlite3 writer committing for a while; and Azurite as the container when a test copies
/// the history off the volume.
/// </summary>
public abstract class ReplicatorProcessTest : IDisposable
{
    /// <summary>The replicator's poll interval in these tests.</summary>
    protected static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly List<Process> _running = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private Azurite? _azurite;

    /// <summary>Creates the database with <paramref name="tables"/> (SQL run after WAL mode is set).</summary>
    protected ReplicatorProcessTest(string tables)
    {
        Cli.Settings["Persistence__Replication__IntervalSeconds"] = "1";
        Directory.CreateDirectory(Path.GetDirectoryName(Cli.DatabasePath)!);
        var (exit, _, error) = Shell.Run("sqlite3", "-batch", Cli.DatabasePath, "PRAGMA journal_mode = WAL; " + tables);
        Assert.True(exit == 0, error);
    }

    /// <summary>The CLI's settings, directories and processes.</summary>
    protected CliHarness Cli { get; } = new();

    public void Dispose()
    {
        foreach (var process in _running.Where(p => !p.HasExited))
        {
            process.Kill();
            process.WaitForExit();
        }

        Cli.Dispose();
        _azurite?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// What every replicator this test started wrote to stdout and stderr (information-level events included), each
    /// line stamped with the time it was read and the replicator's number: for a failure's message.
    /// </summary>
    protected string ReplicatorLog => string.Join('\n', _log);

    /// <summary>Adds what the test did (a kill, a restart) to <see cref="ReplicatorLog"/>, at its place in time.</summary>
    protected void Mark(string what) => _log.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} test: {what}");

    /// <summary>Starts <c>emergence-db replicate --verbose</c>, with <paramref name="environment"/> added when given; it is killed at the end if still running.</summary>
    protected Process StartReplicator(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = Cli.StartProcessWith(environment ?? new Dictionary<string, string?>(), "replicate", "--verbose");
        var number = _running.Count + 1;
        _running.Add(process);
        void Keep(object sender, DataReceivedEventArgs line)
        {
            if (line.Data is { } text)
            {
                _log.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} replicator {number}: {text}");
            }
        }

        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Starts Azurite and makes its <paramref name="container"/> the off-volume target of every process started after.</summary>
    protected void StartContainer(string container)
    {
        _azurite = Azurite.Start();
        Cli.Settings["Persistence__Offsite__ConnectionString"] = _azurite.ConnectionString;
        Cli.Settings["Persistence__Offsite__Container"] = container;
    }

    /// <summary>
    /// Polls the replicator's recorded state until it has caught up past the last commit of the <c>rows</c> table (each
    /// row stamped with its commit time in <c>at</c>), as the sqlite3 CLI reads it; the record is written every few seconds.
    /// </summary>
    protected void WaitUntilCaughtUp()
    {
        var last = Parse(Sqlite3.Query(Cli.DatabasePath, "SELECT max(at) FROM rows;"));
        var record = Path.Combine(Cli.BackupDirectory, ".replication.json");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllText(record));
                if (json.RootElement.GetProperty("caught_up_at").GetString() is { } at && Parse(at) > last + Interval)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                // Not written yet, or being replaced.
            }

            Thread.Sleep(200);
        }

        Assert.Fail($"the replicator did not catch up past the last commit ({last:O}) within 90 s");
    }

    /// <summary>A row's commit time, as the sqlite3 CLI's <c>strftime</c> wrote it (UTC).</summary>
    protected static DateTimeOffset Parse(string at) => DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>Writes for <paramref name="duration"/>: a commit, then a pause of <paramref name="pauseMilliseconds"/>, again and again.</summary>
    private protected static void WriteFor(ShellWriter writer, TimeSpan duration, int pauseMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            writer.CommitOne();
            Thread.Sleep(pauseMilliseconds);
        }
    }
}
