using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;

namespace Emergence.Cli.Commands;

/// <summary><c>list [--offsite] [--timeline] [--json]</c>: backups newest first, with size, age and checksum; or the restorable windows of replicated history.</summary>
internal static class ListCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var offsite = new Option<bool>("--offsite") { Description = "List the off-volume container instead of the backup directory." };
        var timeline = new Option<bool>("--timeline") { Description = "List the windows 'restore --to' can reach: each replication generation, from its snapshot to its newest whole segment." };
        var command = new Command("list", "List backups, newest first, with size, age and checksum.") { offsite, timeline, json };
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, async session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            if (parsed.GetValue(offsite))
            {
                return await ListOffsiteAsync(session, location, parsed.GetValue(timeline), cancellationToken).ConfigureAwait(false);
            }

            if (parsed.GetValue(timeline))
            {
                PrintTimeline(session, Timeline.Windows(location.BackupDirectory, location.DatabasePath), location.BackupDirectory);
                return ExitCodes.Ok;
            }

            var now = session.Environment.Time.GetUtcNow();
            Print(session, BackupListing.Of(BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now), now), location.BackupDirectory);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<int> ListOffsiteAsync(CliSession session, DatabaseLocation location, bool timeline, CancellationToken cancellationToken)
    {
        if (OffsiteCommand.StoreFor(session, location) is not { } store)
        {
            return ExitCodes.Usage;
        }

        var where = $"the off-volume container {store.Describe()}";
        try
        {
            if (timeline)
            {
                var history = await new OffsiteHistory(store, location.DatabasePath).ListAsync(cancellationToken).ConfigureAwait(false);
                PrintTimeline(session, Timeline.Windows([.. history.Generations.Select(g => History.Read(g, history.FilesOf(g.Id), null, History.Check.Records))]), where);
                return ExitCodes.Ok;
            }

            var listed = await store.ListAsync(cancellationToken).ConfigureAwait(false);
            Print(session, OffsiteBackup.Listing(listed, session.Environment.Time.GetUtcNow()), where);
            return ExitCodes.Ok;
        }
        catch (OffsiteUnavailableException ex)
        {
            return session.Fail($"the off-volume container {store.Container} cannot be listed: {ex.Message}");
        }
    }

    private static void PrintTimeline(CliSession session, IReadOnlyList<Timeline.Window> windows, string where)
    {
        if (session.Json)
        {
            session.WriteJson(windows);
            return;
        }

        if (windows.Count == 0)
        {
            session.Output.WriteLine($"No replicated history in {where}: only the backups themselves can be restored.");
            return;
        }

        foreach (var w in windows)
        {
            var problem = w.Problem is null ? "" : $"  (ends early: {w.Problem})";
            var ended = w.EndedAt is { } at ? $"  (a restore replaced the database at {UtcMillisecondsConverter.Format(at)}: no point from then on)" : "";
            session.Output.WriteLine($"{w.Generation}  {UtcMillisecondsConverter.Format(w.From)} .. {UtcMillisecondsConverter.Format(w.To)}  {w.Segments} segments{problem}{ended}");
        }
    }

    private static void Print(CliSession session, IReadOnlyList<BackupListing> rows, string where)
    {
        if (session.Json)
        {
            session.WriteJson(rows);
            return;
        }

        if (rows.Count == 0)
        {
            session.Output.WriteLine($"No backups in {where}.");
            return;
        }

        foreach (var row in rows)
        {
            var detail = row.Verified ? $"{row.Reason,-13} sha256 {row.Checksum}" : $"NOT A BACKUP: {row.Problem}";
            session.Output.WriteLine($"{row.Name}  {Format.Bytes(row.Size),10}  {Format.Age(TimeSpan.FromSeconds(row.AgeSeconds)),-18}  {detail}");
        }
    }
}
