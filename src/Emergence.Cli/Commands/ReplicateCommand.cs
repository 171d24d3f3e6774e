using System.CommandLine;
using Emergence.Persistence.Database;
using Emergence.Persistence.Replication;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>replicate</c>: runs the WAL replicator in the foreground until interrupted, for a database whose own
/// app does not (the function app replicates by itself). One replicator per backup directory: it refuses
/// while another holds the replication lock.
/// </summary>
internal static class ReplicateCommand
{
    public static Command Create(CommandContext context)
    {
        var command = new Command("replicate", "Follow the database's WAL and make every commit durable in a segment within the interval, until interrupted.");
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, null, async session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            if (!File.Exists(location.DatabasePath))
            {
                return session.Fail($"the database {location.DatabasePath} does not exist.");
            }

            Directory.CreateDirectory(new ReplicationStore(location.BackupDirectory).Root);
            using (var probe = VolumeLock.TryAcquire(Replicator.LockPathFor(location), session.Environment.Time, out var holder))
            {
                if (probe is null)
                {
                    return session.Fail($"another replicator holds {Replicator.LockPathFor(location)}: {holder ?? "unknown"}.");
                }
            }

            using var export = MetricsExport.Start(session, location);
            session.Output.WriteLine($"replicating: {location.DatabasePath} -> {new ReplicationStore(location.BackupDirectory).Root} (Ctrl-C stops)");
            try
            {
                await session.Get<Replicator>().RunAsync(location, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Interrupted: every segment written is whole; the next run resumes the generation when it can.
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
