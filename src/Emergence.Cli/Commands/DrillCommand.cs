using System.CommandLine;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>drill [--json]</c>: runs the restore drill now: downloads the newest off-volume backup to a
/// temporary directory, verifies its SHA-256 and <c>integrity_check</c>, records the result for health
/// and deletes the download. Exits 0 when it passed, 1 when it failed.
/// </summary>
internal static class DrillCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var command = new Command("drill", "Download the newest off-volume backup, verify it (SHA-256 and integrity_check), record the result, delete the download.") { json };
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, async session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            if (OffsiteCommand.StoreFor(session, location) is null)
            {
                return ExitCodes.Usage;
            }

            DrillResult result;
            using (var progress = session.CreateProgress())
            {
                result = (await session.Get<RestoreDrill>().RunAsync(location, progress, cancellationToken).ConfigureAwait(false))!;
            }

            if (session.Json)
            {
                session.WriteJson(result);
            }
            else if (result.Ok)
            {
                session.Output.WriteLine($"drill:     passed: {result.Backup} downloaded and verified (sha256, integrity_check) in {result.DurationMs} ms");
            }

            return result.Ok ? ExitCodes.Ok : session.Fail($"the restore drill failed: {result.Problem}");
        }));
        return command;
    }
}
