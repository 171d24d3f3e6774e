using System.Diagnostics;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>The app's writer, as the replication sections load a database: one-row commits at a rate, timed one by one.</summary>
internal static class WriterLoad
{
    /// <summary>The payload of each row.</summary>
    public const int PayloadBytes = 200;

    /// <summary>The services on a new database in <paramref name="work"/> (emptied first) with its table of rows.</summary>
    public static (ServiceProvider Provider, DatabaseLocation Location, SqliteConnectionFactory Connections) Fresh(string work, Func<string, string, ServiceProvider> services)
    {
        var (provider, location) = BenchWorkspace.Empty(services, work);
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        Directory.CreateDirectory(location.DatabaseDirectory);
        using (var create = connections.OpenOrCreate(location.DatabasePath))
        {
            Execute(create, "CREATE TABLE rows (n INTEGER PRIMARY KEY, pad BLOB NOT NULL)");
        }

        return (provider, location, connections);
    }

    /// <summary>
    /// Commits one row at a time at <paramref name="rate"/> a second (0: as fast as it can), adding each commit's
    /// latency to <paramref name="latencies"/> (its start, a <see cref="Stopwatch"/> timestamp, to
    /// <paramref name="starts"/>, and how its time divided between a processor and the rest to <paramref name="splits"/>),
    /// counting what failed.
    /// </summary>
    public static (long Commits, long Busy, long Errors) Write(SqliteConnectionFactory connections, string database, TimeSpan duration, List<double> latencies, int rate, List<long>? starts = null, List<CommitTimes.Split>? splits = null)
    {
        using var times = splits is null ? null : new CommitTimes(splits);
        using var connection = connections.OpenExisting(database);
        using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({PayloadBytes}))";
        var clock = Stopwatch.StartNew();
        var count = 0L;
        var busy = 0L;
        var errors = 0L;
        while (clock.Elapsed < duration)
        {
            // Commits are due at a steady rate; one that falls behind is not made up for by a burst.
            var due = rate == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(count / (double)rate);
            if (due > clock.Elapsed)
            {
                Thread.Sleep(due - clock.Elapsed);
            }

            var before = times?.Now() ?? default;
            var started = Stopwatch.GetTimestamp();
            try
            {
                command.ExecuteNonQuery();
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6)
            {
                busy++;
                continue;
            }
            catch (Exception ex) when (ex is SqliteException or IOException)
            {
                errors++;
                continue;
            }

            var took = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            times?.Add(took, before);
            latencies.Add(took);
            starts?.Add(started);
            count++;
        }

        return (count, busy, errors);
    }

    /// <summary>Waits for this trial's replicator to have polled once, so no lag is sampled from the last trial's state.</summary>
    public static void WaitForFirstPoll(ReplicationActivity activity, DatabaseLocation location, DateTimeOffset since) =>
        WaitUntil(() => activity.StateFor(location.BackupDirectory) is { Generation: not null, CaughtUpAt: { } caughtUp } && caughtUp >= since, "the replicator did not poll");

    /// <summary>Polls <paramref name="done"/> every 20 ms; throws <see cref="TimeoutException"/> (<paramref name="failure"/> "within 60 s") when it is not true within 60 s.</summary>
    public static void WaitUntil(Func<bool> done, string failure)
    {
        var waited = Stopwatch.StartNew();
        while (!done())
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{failure} within 60 s");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Runs one statement.</summary>
    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
