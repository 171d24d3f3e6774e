using System.CommandLine;
using Emergence.Persistence.Health;
using Emergence.Persistence.Startup;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>startup [--json]</c>: runs the app's startup sequence once (volume check, lock, recovery,
/// backups, migrations, then the off-volume copy when configured), prints what it did and the status report; exits like <c>status</c>.
/// </summary>
internal static class StartupCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var command = new Command("startup", "Run the app's startup sequence once: check the volume, take the lock, recover, back up, migrate; then print the status.") { json };
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, async session =>
        {
            var result = await session.Get<StartupSequence>().RunAsync(cancellationToken).ConfigureAwait(false);
            using (result.Lock)
            {
                if (!session.Json)
                {
                    PrintSteps(session, result);
                }

                if (result.Succeeded)
                {
                    await OffsiteCopy.RunAsync(session, result.Location, cancellationToken).ConfigureAwait(false);
                }

                var report = session.Get<HealthReporter>().Check(result.Location, result.FailureSentence);
                StatusCommand.Print(session, report);
                return StatusCommand.ExitCodeFor(report.Status);
            }
        }));
        return command;
    }

    private static void PrintSteps(CliSession session, StartupResult result)
    {
        var o = session.Output;
        if (result.Location.IsFallback)
        {
            o.WriteLine($"fallback:  {result.Location.ConfiguredDatabasePath} cannot be used ({result.Location.FallbackReason}); using {result.Location.DatabasePath}");
        }

        if (result.RequestedRestore is { } requested)
        {
            o.WriteLine($"restored:  {requested.Backup.Filename} (requested)");
        }

        if (result.Recovery?.Restore is { } recovered)
        {
            var from = recovered.OffsiteContainer is { } container ? $" from the off-volume container {container}" : "";
            o.WriteLine($"recovered: {recovered.Backup.Filename}{from}; replaced files in {recovered.QuarantineDirectory ?? "(none)"}");
        }

        if (result.Migrations is { } migrated)
        {
            var created = migrated.Created ? "created the database; " : "";
            o.WriteLine($"schema:    {created}version {migrated.FromVersion} -> {migrated.ToVersion}{(migrated.PreMigrationBackup is { } pre ? $" (pre-migration backup {pre.Filename})" : "")}");
        }

        if (result.StartupBackup is { } startup)
        {
            o.WriteLine($"backup:    {startup.Filename} (the database changed since the newest backup)");
        }

        if (result.CatchUpBackup is { } catchUp)
        {
            o.WriteLine($"backup:    {catchUp.Filename} (no backup within the schedule interval)");
        }

        foreach (var warning in result.Warnings)
        {
            o.WriteLine($"warning:   {warning}");
        }

        o.WriteLine();
    }
}
