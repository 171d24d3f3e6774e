using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Emergence.Bench;

/// <summary>The history-rate section: a real-time writer replicated and merged, for the bytes each level takes per payload byte.</summary>
internal static class HistoryRate
{
    /// <summary>A minute of a real-time writer at 500 commits a second of 200-byte rows, replicated and merged: bytes per payload byte at each level.</summary>
    public static void Run(Arguments options, Func<string, string, ServiceProvider> services, Action<string> line, CultureInfo inv)
    {
        const int CommitsPerSecond = 500;
        const int PayloadBytes = HistoryBench.PayloadBytes;
        var seconds = Math.Max(60, options.WriterSeconds * 5);
        var (provider, location, _) = WriterLoad.Fresh(Path.Combine(options.Directory, "history-rate"), services);
        using var owned = provider;
        var store = new ReplicationStore(location.BackupDirectory);
        var (generation, committed) = WriteReplicated(provider, location, CommitsPerSecond, seconds, line, inv);
        HistoryCompactor.Compact(store, generation, closed: true, NullLogger.Instance);
        var payload = committed * (double)PayloadBytes;
        var sizes = store.Files(generation.Id).GroupBy(f => f.Level).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Sum(f => new FileInfo(f.Path).Length) / payload);
        var perDay = CommitsPerSecond * PayloadBytes * 86_400.0;
        line(string.Create(inv, $"A real-time writer at {CommitsPerSecond} commits/s of {PayloadBytes}-byte random rows for {seconds} s ({committed} commits): history bytes per payload byte by level: {string.Join(", ", sizes.Select(s => $"level {s.Key} {s.Value:0.00}"))}."));
        HistoryCodecs.Run(store, generation, line, inv);

        // What the window keeps: the hour level for the whole window, the minute and 10-minute levels for a day, the
        // 10-second level and the segments for an hour; each level holds each changed page once per period.
        var kept = (7 * sizes.GetValueOrDefault(4)) + sizes.GetValueOrDefault(2) + sizes.GetValueOrDefault(3) + ((sizes.GetValueOrDefault(0) + sizes.GetValueOrDefault(1)) / 24);
        line(string.Create(inv, $"At that rate a day is {perDay / (1L << 30):0.0} GiB of payload. A 7-day window keeps the hour level for 7 days, the minute and 10-minute levels for a day and the 10-second level and segments for an hour: about {kept * perDay / (1L << 30):0} GiB by this run's ratios, against a database that grows by {7 * perDay / (1L << 30):0} GiB in the week: {kept * perDay / (7 * perDay):0.00}× what the week adds (an estimate from a minute of writing: the levels above a minute hold each page once per period, so an append-only table costs about what it adds)."));
        line("");
    }

    /// <summary>
    /// A writer at <paramref name="commitsPerSecond"/> commits a second of random rows for <paramref name="seconds"/>
    /// seconds, under a replicator session polling every second; returns the session's generation and the commits made.
    /// </summary>
    private static (GenerationManifest Generation, long Committed) WriteReplicated(ServiceProvider provider, DatabaseLocation location, int commitsPerSecond, int seconds,
        Action<string> line, CultureInfo inv)
    {
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        var committed = 0L;
        using var session = ReplicationSession.OpenAsync(location, connections, provider.GetRequiredService<BackupService>(), TimeProvider.System, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var writer = Task.Run(() =>
        {
            using var connection = connections.OpenExisting(location.DatabasePath);
            using var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({HistoryBench.PayloadBytes}))";
            var clock = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                var due = TimeSpan.FromSeconds(committed / (double)commitsPerSecond);
                if (due > clock.Elapsed)
                {
                    Thread.Sleep(due - clock.Elapsed);
                }

                command.ExecuteNonQuery();
                committed++;
            }
        });
        var busy = 0;
        while (!writer.IsCompleted)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                session.Poll();
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode == 5)
            {
                busy++; // the checkpoint could not take the write lock within the busy timeout; the next poll tries again, as the replicator does
            }

            var rest = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                Thread.Sleep(rest);
            }
        }

        session.Poll();
        if (busy > 0)
        {
            line(string.Create(inv, $"(the replicator's checkpoint found the write lock busy past its timeout in {busy} polls, and tried again at the next)"));
        }

        return (session.Generation, committed);
    }
}
