using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Emergence.Persistence.Records;
using Emergence.Persistence.Recovery;

namespace Emergence.Cli.Commands;

/// <summary>
/// <c>restore [NAME|--latest|--to TIME] [--offsite [--target NAME]] [--force] [--on-next-start] [--json]</c>: restores a
/// verified backup now, from the backup directory or (<c>--offsite</c>) from the off-volume container,
/// refusing while the app holds the volume lock; or asks the running app to do it on its next start. With
/// <c>--to</c> or <c>--latest</c>, the backup is followed by the replicated segments (from the same place) up to
/// that point (the newest replicated commit). The decisions are the library's (<see cref="OperatorRestore"/>).
/// </summary>
internal static class RestoreCommand
{
    private const string Why = "requested with emergence-db restore";

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
            Validate(result, result.GetValue(name), result.GetValue(latest), result.GetValue(to), result.GetValue(offsite), result.GetValue(onNextStart));
            if (result.GetValue(offsiteTarget) is not null && !result.GetValue(offsite))
            {
                result.AddError("--target picks an off-volume target: it needs --offsite.");
            }
        });
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, session =>
        {
            var backupName = parsed.GetValue(name);
            var target = backupName is null ? RestoreTarget.Point(parsed.GetValue(to) is { } time ? ParseTime(time) : null) : RestoreTarget.Backup(backupName);
            var offsiteStore = parsed.GetValue(offsite) ? parsed.GetValue(offsiteTarget) ?? OffsiteCommand.AllTargets : null;
            return RunAsync(session, target, offsiteStore, parsed.GetValue(force), parsed.GetValue(onNextStart), cancellationToken);
        }));
        return command;
    }

    /// <summary>An ISO-8601 time that names its zone (Z or an offset), as UTC; <see langword="null"/> otherwise.</summary>
    internal static DateTimeOffset? ParseTime(string text) =>
        (text.EndsWith('Z') || text.EndsWith('z') || System.Text.RegularExpressions.Regex.IsMatch(text, @"[+-]\d{2}:?\d{2}$"))
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed.ToUniversalTime()
            : null;

    private static void Validate(System.CommandLine.Parsing.CommandResult result, string? name, bool latest, string? to, bool offsite, bool onNextStart)
    {
        if ((name is not null ? 1 : 0) + (latest ? 1 : 0) + (to is not null ? 1 : 0) != 1)
        {
            result.AddError("Give exactly one of a backup NAME, --latest or --to TIME.");
        }

        if (to is not null && ParseTime(to) is null)
        {
            result.AddError($"--to: '{to}' is not an ISO-8601 time with a zone, e.g. 2026-12-02T10:30:00Z.");
        }

        if (to is not null && onNextStart)
        {
            result.AddError("--to restores now: it cannot be combined with --on-next-start.");
        }

        if (offsite && onNextStart)
        {
            result.AddError("--offsite cannot be combined with --on-next-start: stop the app and run 'restore --offsite', or restore the database first.");
        }
    }

    // offsite: null restores from the backup directory; OffsiteCommand.AllTargets from every off-volume target, with fallback; else from the one named.
    private static async Task<int> RunAsync(CliSession session, RestoreTarget target, string? offsite, bool force, bool onNextStart, CancellationToken cancellationToken)
    {
        var location = session.Get<DatabaseLocator>().Configured();
        try
        {
            if (target.BackupName is { } backupName)
            {
                InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), backupName);
            }
        }
        catch (InvalidBackupNameException ex)
        {
            return session.Fail(ex.Message, ExitCodes.Usage);
        }

        OffsiteStore? store = null;
        if (offsite is not null && (store = OffsiteCommand.StoreFor(session, location, offsite == OffsiteCommand.AllTargets ? null : offsite)) is null)
        {
            return ExitCodes.Usage;
        }

        using var progress = session.CreateProgress();
        var order = new RestoreOrder { Target = target, Why = Why, OnNextStart = onNextStart, Force = force, Store = store, Progress = progress };
        var outcome = await session.Get<OperatorRestore>().CarryOutAsync(location, order, cancellationToken).ConfigureAwait(false);
        return Report(session, outcome);
    }

    private static int Report(CliSession session, RestoreOrderOutcome outcome)
    {
        if (outcome.Restored is null)
        {
            foreach (var passed in outcome.Passed)
            {
                session.Error.WriteLine($"emergence-db: skipping {passed.Name}: {passed.Problem}");
            }
        }

        if (outcome.Problem is { } problem)
        {
            return session.Fail(problem);
        }

        if (outcome.Restored is { } restored)
        {
            PrintRestored(session, restored);
        }
        else
        {
            PrintRequested(session, outcome.Requested!);
        }

        return ExitCodes.Ok;
    }

    private static void PrintRestored(CliSession session, RestoreResult result)
    {
        if (session.Json)
        {
            session.WriteJson(result);
            return;
        }

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

    private static void PrintRequested(CliSession session, NextStartRequest request)
    {
        if (session.Json)
        {
            session.WriteJson(request);
            return;
        }

        session.Output.WriteLine(request.Latest
            ? $"requested:   restore of the newest point (from {request.Backup}, verified now, and every replicated commit after it) on the app's next start"
            : $"requested:   restore of {request.Backup} (verified now) on the app's next start");
        session.Output.WriteLine($"request:     {request.RequestPath}");
        session.Output.WriteLine("next:        restart the service; /api/health reports the outcome.");
    }
}
