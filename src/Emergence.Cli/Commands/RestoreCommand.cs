using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>restore [NAME|--latest] [--force] [--on-next-start] [--json]</c>: restores a verified backup now
/// (refusing while the app holds the volume lock), or asks the running app to do it on its next start.
/// </summary>
internal static class RestoreCommand
{
    /// <summary>The JSON result of a request for the next start.</summary>
    internal sealed record RequestWritten(string RequestPath, string Backup, DateTimeOffset RequestedAt);

    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var name = new Argument<string?>("NAME") { Description = "The backup's file name, as 'list' prints it.", Arity = ArgumentArity.ZeroOrOne };
        var latest = new Option<bool>("--latest") { Description = "Restore the newest backup that verifies." };
        var force = new Option<bool>("--force") { Description = "Replace the database even when it is healthy." };
        var onNextStart = new Option<bool>("--on-next-start") { Description = "Verify now and have the running app restore on its next start." };
        var command = new Command("restore", "Restore a verified backup over the database, quarantining what it replaces.") { name, latest, force, onNextStart, json };
        command.Validators.Add(result =>
        {
            var hasName = result.GetValue(name) is not null;
            if (hasName == result.GetValue(latest))
            {
                result.AddError("Give exactly one of a backup NAME or --latest.");
            }
        });
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, session =>
        {
            var location = session.Get<DatabaseLocator>().Resolve();
            var backupName = parsed.GetValue(name);
            try
            {
                if (backupName is not null)
                {
                    new BackupNaming(location.DatabasePath).EnsureBackupName(backupName);
                }
            }
            catch (InvalidBackupNameException ex)
            {
                return Task.FromResult(session.Fail(ex.Message, ExitCodes.Usage));
            }

            return Task.FromResult(parsed.GetValue(onNextStart)
                ? RequestForNextStart(session, location, backupName, cancellationToken)
                : RestoreNow(session, location, backupName, parsed.GetValue(force), cancellationToken));
        }));
        return command;
    }

    private static int RestoreNow(CliSession session, DatabaseLocation location, string? backupName, bool force, CancellationToken cancellationToken)
    {
        VolumeLock? volumeLock;
        string? holder;
        try
        {
            volumeLock = VolumeLock.TryAcquire(location.LockPath, session.Environment.Time, out holder);
        }
        catch (IOException ex)
        {
            return session.Fail($"cannot take the volume lock: {ex.Message}");
        }

        if (volumeLock is null)
        {
            return session.Fail($"the volume lock {location.LockPath} is held by {holder ?? "another process"} (the running app?). Stop it first, or use 'restore --on-next-start'.");
        }

        using (volumeLock)
        {
            RestoreResult result;
            try
            {
                using var progress = session.CreateProgress();
                result = session.Get<RestoreService>().Restore(location, volumeLock, backupName, force, "requested with emergence-db restore", progress, cancellationToken: cancellationToken);
            }
            catch (RestoreFailedException ex)
            {
                return session.Fail(ex.Message);
            }

            if (session.Json)
            {
                session.WriteJson(result);
            }
            else
            {
                foreach (var skipped in result.Skipped)
                {
                    session.Output.WriteLine($"skipped:     {skipped.Name}: {skipped.Problem}");
                }

                session.Output.WriteLine($"restored:    {result.Backup.Filename} -> {result.DatabasePath}");
                session.Output.WriteLine($"quarantined: {result.QuarantineDirectory ?? "(nothing was replaced)"}");
            }

            return ExitCodes.Ok;
        }
    }

    private static int RequestForNextStart(CliSession session, DatabaseLocation location, string? backupName, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath);
        var candidates = backupName is null ? inventory.Verified : inventory.Backups.Where(b => b.Name == backupName).ToList();
        if (candidates.Count == 0)
        {
            return session.Fail(backupName is null
                ? $"there is no verified backup in {location.BackupDirectory}."
                : $"there is no backup named {backupName} in {location.BackupDirectory}.");
        }

        var verifier = session.Get<BackupVerifier>();
        foreach (var candidate in candidates)
        {
            var verification = verifier.Verify(candidate, IntegrityCheck.Quick, cancellationToken: cancellationToken);
            if (!verification.Ok)
            {
                if (backupName is not null)
                {
                    return session.Fail($"backup {candidate.Name} failed verification: {verification.Problem}");
                }

                session.Error.WriteLine($"emergence-db: skipping {candidate.Name}: {verification.Problem}");
                continue;
            }

            var request = new RestoreRequest { Backup = candidate.Name, RequestedAt = session.Environment.Time.GetUtcNow() };
            var path = RestoreRequest.PathFor(location);
            request.Write(path);
            if (session.Json)
            {
                session.WriteJson(new RequestWritten(path, candidate.Name, request.RequestedAt));
            }
            else
            {
                session.Output.WriteLine($"requested:   restore of {candidate.Name} (verified now) on the app's next start");
                session.Output.WriteLine($"request:     {path}");
                session.Output.WriteLine("next:        restart the service; /api/health reports the outcome.");
            }

            return ExitCodes.Ok;
        }

        return session.Fail("no backup passed verification; nothing was requested.");
    }
}
