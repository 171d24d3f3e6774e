using System.Collections.Concurrent;
using System.Diagnostics;
using Emergence.Persistence.Database;
using Emergence.Persistence.Metrics;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Tests.Metrics;

/// <summary>
/// The replicator's spans: a listener on <see cref="PersistenceActivities.SourceName"/> sees each kind of work it does
/// beside a writer, the moments it waits for and holds the write lock inside the checkpoint that needs them.
/// </summary>
public sealed class ReplicatorSpansTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AListener_SeesPollsStepsSegmentCommitsAndTheCheckpoint_WithTheWriteLockHeldInsideIt()
    {
        var seen = new ConcurrentQueue<(string Name, string? Parent)>();
        using var h = new TestHarness(new Dictionary<string, string?> { ["Persistence:Replication:CheckpointBytes"] = (256 << 10).ToString(System.Globalization.CultureInfo.InvariantCulture) }, realTime: true);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PersistenceActivities.SourceName,
            Sample = (ref _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity => seen.Enqueue((activity.OperationName, activity.Parent?.OperationName)),
        };
        ActivitySource.AddActivityListener(listener);
        Directory.CreateDirectory(Path.GetDirectoryName(h.DatabasePath)!);
        var connections = h.Get<SqliteConnectionFactory>();
        using var writer = connections.OpenOrCreate(h.DatabasePath);
        Execute(writer, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
        var location = h.Locate();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var replicating = Task.Run(() => h.Get<Replicator>().RunAsync(location, stop.Token), CancellationToken.None);
        try
        {
            var activity = h.Get<ReplicationActivity>();
            await Eventually(() => activity.StateFor(location.BackupDirectory) is { Generation: not null }, "the replicator's first poll");
            string[] expected = [PersistenceActivities.Poll, PersistenceActivities.Step, PersistenceActivities.SegmentCommit, PersistenceActivities.Checkpoint, PersistenceActivities.WaitingForWriters, PersistenceActivities.HoldingWriters, PersistenceActivities.Upkeep];
            var n = 0;

            // Commits until the log passes the threshold again and again, so that the replicator checkpoints under the writer.
            await Eventually(
                () =>
                {
                    for (var i = 0; i < 50; i++)
                    {
                        Execute(writer, $"INSERT INTO rows (n, pad) VALUES ({++n}, randomblob(2000))");
                    }

                    return expected.All(name => seen.Any(s => s.Name == name));
                },
                "every kind of span: " + string.Join(", ", expected));
        }
        finally
        {
            await stop.CancelAsync();
            await replicating.WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        Assert.All(seen.Where(s => s.Name is PersistenceActivities.WaitingForWriters or PersistenceActivities.HoldingWriters), s => Assert.Equal(PersistenceActivities.Checkpoint, s.Parent));
        Assert.Contains(seen, s => s.Name == PersistenceActivities.Checkpoint && s.Parent is PersistenceActivities.Step or PersistenceActivities.Poll);
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds or <see cref="Bound"/> passes.</summary>
    private static Task Eventually(Func<bool> condition, string what) => Polling.Until(condition, what, Bound);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
