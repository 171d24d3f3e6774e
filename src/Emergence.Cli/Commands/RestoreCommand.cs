using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>restore [NAME|--latest|--to TIME] [--offsite [--target NAME]] [--force] [--on-next-start] [--json]</c>: restores a
/// verified backup now, from the backup directory or (<c>--offsite</c>) from the off-volume container,
/// refusing while the app holds the volume lock; or asks the running app to do it on its next start. With
/// <c>--to</c> or <c>--latest</c>, the backup is followed by the replicated segments (from the same place) up to
/// that point (the newest replicated commit).
/// </summary>
internal static class RestoreCommand
{
    /// <summary>The JSON result of a request for the next start.</summary>
    internal sealed record RequestWritten(string RequestPath, string Backup, DateTimeOffset RequestedAt, bool Latest);

    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var name = new Argument<string?>("NAME") { Description = "The backup's file name, as 'list' prints it.", Arity = ArgumentArity.ZeroOrOne };
        var latest = new Option<bool>("--latest") { Description = "Restore the newest replicated commit (the newest backup that verifies, then every segment after it)." };
        var to = new Option<string?>("--to") { Description = "Restore the newest state seen at or before this ISO-8601 UTC time, e.g. 2026-12-02T10:30:00Z." };
        var force = new Option<bool>("--force") { Description = "Replace the database even when it is healthy." };
        var onNextStart = new Option<bool>("--on-next-start") { Description = "Verify now and have the running app restore on its next start." };
        var offsite = new Option<bool>("--offsite") { Description = "Download the backup (and, with --latest or --to, the segments after it) from the off-volume container and verify them before they replace the database." };
        var offsiteTarget = new Option<string?>("--target") { Description = "With --offsite and two off-volume targets: read only this one (azure, s3, or its container's or bucket's name) instead of both with fallback." };
        var command = new Command("restore", "Restore a verified backup over the database, quarantining what it replaces.") { name, latest, to, offsite, offsiteTarget, force, onNextStart, json };
        command.Validators.Add(result =>
        {
            var given = (result.GetValue(name) is not null ? 1 : 0) + (result.GetValue(latest) ? 1 : 0) + (result.GetValue(to) is not null ? 1 : 0);
            if (given != 1)
            {
                result.AddError("Give exactly one of a backup NAME, --latest or --to TIME.");
            }

            if (result.GetValue(to) is { } text && ParseTime(text) is null)
            {
                result.AddError($"--to: '{text}' is not an ISO-8601 time with a zone, e.g. 2026-12-02T10:30:00Z.");
            }

            if (result.GetValue(to) is not null && result.GetValue(onNextStart))
            {
                result.AddError("--to restores now: it cannot be combined with --on-next-start.");
            }

            if (result.GetValue(offsite) && result.GetValue(onNextStart))
            {
                result.AddError("--offsite cannot be combined with --on-next-start: stop the app and run 'restore --offsite', or restore the database first.");
            }

            if (result.GetValue(offsiteTarget) is not null && !result.GetValue(offsite))
            {
                result.AddError("--target picks an off-volume target: it needs --offsite.");
            }
        });
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, async session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            var backupName = parsed.GetValue(name);
            try
            {
                if (backupName is not null)
                {
                    InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), backupName);
                }
            }
            catch (InvalidBackupNameException ex)
            {
                return session.Fail(ex.Message, ExitCodes.Usage);
            }

            if (parsed.GetValue(onNextStart))
            {
                return RequestForNextStart(session, location, backupName, cancellationToken);
            }

            OffsiteStore? store = null;
            if (parsed.GetValue(offsite) && (store = OffsiteCommand.StoreFor(session, location, parsed.GetValue(offsiteTarget))) is null)
            {
                return ExitCodes.Usage;
            }

            var target = parsed.GetValue(to) is { } time ? ParseTime(time) : null;
            return await RestoreNowAsync(session, location, store, backupName, target, parsed.GetValue(force), cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>An ISO-8601 time that names its zone (Z or an offset), as UTC; <see langword="null"/> otherwise.</summary>
    internal static DateTimeOffset? ParseTime(string text) =>
        (text.EndsWith('Z') || text.EndsWith('z') || System.Text.RegularExpressions.Regex.IsMatch(text, @"[+-]\d{2}:?\d{2}$"))
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed.ToUniversalTime()
            : null;

    private static async Task<int> RestoreNowAsync(CliSession session, DatabaseLocation location, OffsiteStore? store, string? backupName, DateTimeOffset? target, bool force, CancellationToken cancellationToken)
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
                const string Why = "requested with emergence-db restore";
                var restorer = session.Get<RestoreService>();
                result = store is not null
                    ? backupName is null
                        ? await restorer.RestoreOffsiteToTimeAsync(location, volumeLock, store, target, force, Why, progress, cancellationToken: cancellationToken).ConfigureAwait(false)
                        : await restorer.RestoreOffsiteAsync(location, volumeLock, store, backupName, force, Why, progress, cancellationToken: cancellationToken).ConfigureAwait(false)
                    : backupName is null
                        ? restorer.RestoreToTime(location, volumeLock, target, force, Why, progress, cancellationToken: cancellationToken)
                        : restorer.Restore(location, volumeLock, backupName, force, Why, progress, cancellationToken: cancellationToken);
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

                var from = result.OffsiteContainer is { } container ? $" (from the off-volume container {container})" : "";
                session.Output.WriteLine($"restored:    {result.Backup.Filename}{from} -> {result.DatabasePath}");
                session.Output.WriteLine($"quarantined: {result.QuarantineDirectory ?? "(nothing was replaced)"}");
                if (result.Replay is { } replay)
                {
                    session.Output.WriteLine($"replayed:    {replay.Segments} segments, {replay.Commits} transactions after the backup");
                    session.Output.WriteLine($"restored to: {UtcMillisecondsConverter.Format(result.RestoredTo)} (the newest commit seen by then)");
                    if (replay.Stopped is { } stopped)
                    {
                        session.Output.WriteLine($"warning:     the replay stopped early at {stopped}");
                    }
                }
            }

            return ExitCodes.Ok;
        }
    }

    private static int RequestForNextStart(CliSession session, DatabaseLocation location, string? backupName, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, session.Environment.Time.GetUtcNow());
        var candidates = backupName is null ? inventory.RestoreCandidates : inventory.Backups.Where(b => b.Name == backupName).ToList();
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

            // --latest asks for the newest point, as 'restore --latest' now: this backup and every replicated commit after it.
            var request = new RestoreRequest { Backup = candidate.Name, RequestedAt = session.Environment.Time.GetUtcNow(), Latest = backupName is null };
            var path = RestoreRequest.PathFor(location.DatabaseDirectory);
            request.Write(path);
            if (session.Json)
            {
                session.WriteJson(new RequestWritten(path, candidate.Name, request.RequestedAt, request.Latest));
            }
            else
            {
                session.Output.WriteLine(backupName is null
                    ? $"requested:   restore of the newest point (from {candidate.Name}, verified now, and every replicated commit after it) on the app's next start"
                    : $"requested:   restore of {candidate.Name} (verified now) on the app's next start");
                session.Output.WriteLine($"request:     {path}");
                session.Output.WriteLine("next:        restart the service; /api/health reports the outcome.");
            }

            return ExitCodes.Ok;
        }

        return session.Fail("no backup passed verification; nothing was requested.");
    }
}
