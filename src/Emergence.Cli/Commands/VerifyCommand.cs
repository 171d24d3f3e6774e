using System.CommandLine;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Recovery;

namespace Emergence.Cli.Commands;

/// <summary><c>verify [NAME|--all] [--full] [--json]</c>: checksum and integrity check; exit 0 all good, 1 any failed.</summary>
internal static class VerifyCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var name = new Argument<string?>("NAME") { Description = "A backup's file name (default: the newest backup).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Verify every backup." };
        var full = new Option<bool>("--full") { Description = "Run integrity_check instead of quick_check (slower, also checks indexes)." };
        var timeline = new Option<bool>("--timeline") { Description = "Audit the replicated history instead: replay every generation from its base in memory and prove each segment's content checksum." };
        var command = new Command("verify", "Check backups against their manifests (SHA-256) and with quick_check (integrity_check with --full); with --timeline, prove the replicated history.") { name, all, full, timeline, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(name) is not null && result.GetValue(all))
            {
                result.AddError("Give a backup NAME or --all, not both.");
            }

            if (result.GetValue(timeline) && (result.GetValue(name) is not null || result.GetValue(all) || result.GetValue(full)))
            {
                result.AddError("--timeline audits the whole history: it takes no NAME, --all or --full.");
            }
        });
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            return Task.FromResult(parsed.GetValue(timeline)
                ? AuditTimeline(session, location, cancellationToken)
                : VerifyBackups(session, location, parsed.GetValue(name), parsed.GetValue(all), parsed.GetValue(full) ? IntegrityCheck.Full : IntegrityCheck.Quick, cancellationToken));
        }));
        return command;
    }

    private static int VerifyBackups(CliSession session, DatabaseLocation location, string? requested, bool all, IntegrityCheck kind, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, session.Environment.Time.GetUtcNow());
        if (requested is not null)
        {
            try
            {
                InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), requested);
            }
            catch (InvalidBackupNameException ex)
            {
                return session.Fail(ex.Message, ExitCodes.Usage);
            }
        }

        IReadOnlyList<BackupEntry> targets = requested is null
            ? all ? inventory.Backups : [.. inventory.Backups.Take(1)]
            : inventory.Backups.Where(b => b.Name == requested).Take(1).ToList();
        if (targets.Count == 0)
        {
            return session.Fail(requested is null
                ? $"there are no backups in {location.BackupDirectory} to verify."
                : $"there is no backup named {requested} in {location.BackupDirectory}.");
        }

        var results = targets.Select(target => VerifyOne(session, target, kind, cancellationToken)).ToList();
        if (session.Json)
        {
            session.WriteJson(results);
        }

        return results.TrueForAll(r => r.Ok) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static BackupVerification VerifyOne(CliSession session, BackupEntry target, IntegrityCheck kind, CancellationToken cancellationToken)
    {
        BackupVerification result;
        using (var progress = session.CreateProgress())
        {
            result = session.Get<BackupVerifier>().Verify(target, kind, progress, cancellationToken);
        }

        if (!session.Json)
        {
            session.Output.WriteLine(result.Ok ? $"ok      {result.Name}  (sha256 matches, {result.Check} ok)" : $"FAILED  {result.Name}: {result.Problem}");
        }

        return result;
    }

    private static int AuditTimeline(CliSession session, DatabaseLocation location, CancellationToken cancellationToken)
    {
        var audits = session.Get<HistoryAudit>().Run(location, cancellationToken);
        if (session.Json)
        {
            session.WriteJson(audits);
        }
        else if (audits.Count == 0)
        {
            session.Output.WriteLine($"No replicated history in {location.BackupDirectory}.");
        }

        foreach (var audit in session.Json ? [] : audits)
        {
            var to = audit.ProvenTo is { } at ? $" to {Persistence.Records.UtcMillisecondsConverter.Format(at)}" : "";
            session.Output.WriteLine(audit switch
            {
                { Problem: null } => $"ok      {audit.Generation}  {audit.Proven} of {audit.Segments} segments proven{to} (from {audit.Base})",
                { PastTheWindow: true } => $"past    {audit.Generation}  older than the restore window, deleted at the next prune; not proven: {audit.Problem}",
                _ => $"FAILED  {audit.Generation}  {audit.Proven} of {audit.Segments} segments proven{to}: {audit.Problem}",
            });
        }

        return audits.All(a => a.Ok) ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
