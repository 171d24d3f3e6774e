using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;

namespace Emergence.Cli.Commands;

/// <summary><c>backup [--json]</c>: one verified manual backup, then rotation and, when configured, the off-volume copy; prints the manifest.</summary>
internal static class BackupCommand
{
    /// <summary>How long the command waits for a backup already running (the app's timer) to finish.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(10);

    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var command = new Command("backup", "Take one verified backup now (reason: manual), then rotate old ones.") { json };
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, async session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            BackupManifest manifest;
            try
            {
                using var progress = session.CreateProgress();
                manifest = await session.Get<BackupService>().CreateAsync(location, BackupReason.Manual, LockWait, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (BackupFailedException ex)
            {
                return session.Fail(ex.Message);
            }

            if (session.Json)
            {
                session.WriteJson(manifest);
            }
            else
            {
                session.Output.WriteLine($"backup:    {manifest.BackupPath}");
                session.Output.WriteLine($"size:      {Format.Bytes(manifest.Size)} ({manifest.PageCount} pages of {manifest.PageSize} B, schema version {manifest.UserVersion})");
                session.Output.WriteLine($"sha256:    {manifest.Checksum}");
                session.Output.WriteLine($"check:     quick_check {manifest.QuickCheck}");
            }

            // A failed off-volume copy never fails the local backup: it is reported and retried next run.
            await OffsiteCopy.RunAsync(session, location, cancellationToken).ConfigureAwait(false);

            return ExitCodes.Ok;
        }));
        return command;
    }
}
