using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Emergence.Bench;

/// <summary>The history section's week, synthesized: days of commits, polls, backups, merges and pruning on a stepped clock.</summary>
internal static class HistoryWeek
{
    /// <summary>
    /// <paramref name="days"/> of history up to <paramref name="end"/> with a stepped clock: a commit every simulated second,
    /// polled every ten (every second in the last <see cref="ReplicationOptions.EveryCommit"/>), a backup a day and one an
    /// hour for the last five hours, merged into levels every ten minutes and pruned every hour, as the replicator does.
    /// </summary>
    public static void Simulate(ServiceProvider provider, DatabaseLocation location, DateTimeOffset end, int days)
    {
        var connections = provider.GetRequiredService<SqliteConnectionFactory>();
        var clock = new SteppedClock(end.AddDays(-days));
        var settings = new ReplicationOptions();
        var backups = new BackupService(connections, provider.GetRequiredService<IOptions<PersistenceOptions>>(), provider.GetRequiredService<BackupActivity>(),
            provider.GetRequiredService<IntegrityRecord>(), clock, NullLogger<BackupService>.Instance);
        var store = new ReplicationStore(location.BackupDirectory);
        using (var writer = connections.OpenExisting(location.DatabasePath))
        using (var command = writer.CreateCommand())
        using (var session = ReplicationSession.OpenAsync(location, connections, backups, clock, NullLogger.Instance, 4L << 20, null, CancellationToken.None).GetAwaiter().GetResult())
        {
            command.CommandText = $"INSERT INTO rows (pad) VALUES (randomblob({HistoryBench.PayloadBytes}))";
            var (lastCompaction, lastPrune, lastBackup) = (clock.Now, clock.Now, clock.Now);
            while (clock.Now < end)
            {
                var step = end - clock.Now > settings.EveryCommit ? 10 : 1;
                for (var i = 0; i < step; i++)
                {
                    command.ExecuteNonQuery();
                }

                clock.Now += TimeSpan.FromSeconds(step);
                session.Poll();
                var backupEvery = end - clock.Now < TimeSpan.FromHours(5) ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
                if (clock.Now - lastBackup >= backupEvery)
                {
                    backups.CreateAsync(location, BackupReason.Scheduled, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
                    lastBackup = clock.Now;
                }

                if (clock.Now - lastCompaction >= TimeSpan.FromMinutes(10))
                {
                    HistoryCompactor.Compact(store, session.Generation, closed: false, NullLogger.Instance);
                    lastCompaction = clock.Now;
                }

                if (clock.Now - lastPrune >= TimeSpan.FromHours(1))
                {
                    ReplicationRetention.Prune(location, clock.Now, session.Generation.Id, settings, NullLogger.Instance);
                    lastPrune = clock.Now;
                }
            }

            HistoryCompactor.Compact(store, session.Generation, closed: false, NullLogger.Instance);
            ReplicationRetention.Prune(location, clock.Now, session.Generation.Id, settings, NullLogger.Instance);
        }
    }
}
