using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Cli.Commands;

/// <summary><c>list [--json]</c>: backups newest first, with size, age and checksum.</summary>
internal static class ListCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var command = new Command("list", "List backups, newest first, with size, age and checksum.") { json };
        command.SetAction((parsed, _) => context.RunAsync(parsed, json, session =>
        {
            var location = session.Get<DatabaseLocator>().Resolve();
            var rows = BackupListing.Of(BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath), session.Environment.Time.GetUtcNow());
            if (session.Json)
            {
                session.WriteJson(rows);
                return Task.FromResult(ExitCodes.Ok);
            }

            if (rows.Count == 0)
            {
                session.Output.WriteLine($"No backups in {location.BackupDirectory}.");
                return Task.FromResult(ExitCodes.Ok);
            }

            foreach (var row in rows)
            {
                var detail = row.Verified ? $"{row.Reason,-13} sha256 {row.Checksum}" : $"NOT A BACKUP: {row.Problem}";
                session.Output.WriteLine($"{row.Name}  {Format.Bytes(row.Size),10}  {Format.Age(TimeSpan.FromSeconds(row.AgeSeconds)),-18}  {detail}");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
