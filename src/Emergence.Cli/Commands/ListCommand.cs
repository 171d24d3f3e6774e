using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Cli.Commands;

/// <summary><c>list [--json]</c>: backups newest first, with size, age and checksum.</summary>
internal static class ListCommand
{
    /// <summary>One row of <c>list --json</c>.</summary>
    internal sealed record Row(string Name, long Size, DateTimeOffset Timestamp, long AgeSeconds, string? Checksum, string? Reason, bool Verified, string? Problem);

    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var command = new Command("list", "List backups, newest first, with size, age and checksum.") { json };
        command.SetAction((parsed, _) => context.RunAsync(parsed, json, session =>
        {
            var location = session.Get<DatabaseLocator>().Resolve();
            var now = session.Environment.Time.GetUtcNow();
            var rows = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath).Backups
                .Select(b => new Row(b.Name, b.Size, b.Manifest?.Timestamp ?? b.Stamp, (long)(now - (b.Manifest?.Timestamp ?? b.Stamp)).TotalSeconds,
                    b.Manifest?.Checksum, b.Manifest?.Reason, b.HasManifest, b.ManifestError))
                .ToList();
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
