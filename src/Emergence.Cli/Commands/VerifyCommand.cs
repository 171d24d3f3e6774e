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
        var command = new Command("verify", "Check backups against their manifests (SHA-256) and with quick_check (integrity_check with --full).") { name, all, full, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(name) is not null && result.GetValue(all))
            {
                result.AddError("Give a backup NAME or --all, not both.");
            }
        });
        command.SetAction((parsed, cancellationToken) => context.RunAsync(parsed, json, session =>
        {
            var location = session.Get<DatabaseLocator>().Configured();
            var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, session.Environment.Time.GetUtcNow());
            var requested = parsed.GetValue(name);
            IReadOnlyList<BackupEntry> targets;
            if (requested is not null)
            {
                try
                {
                    InvalidBackupNameException.ThrowIfNotBackupName(new BackupNaming(location.DatabasePath), requested);
                }
                catch (InvalidBackupNameException ex)
                {
                    return Task.FromResult(session.Fail(ex.Message, ExitCodes.Usage));
                }

                var entry = inventory.Backups.FirstOrDefault(b => b.Name == requested);
                if (entry is null)
                {
                    return Task.FromResult(session.Fail($"there is no backup named {requested} in {location.BackupDirectory}."));
                }

                targets = [entry];
            }
            else
            {
                targets = parsed.GetValue(all) ? inventory.Backups : inventory.Backups.Take(1).ToList();
            }

            if (targets.Count == 0)
            {
                return Task.FromResult(session.Fail($"there are no backups in {location.BackupDirectory} to verify."));
            }

            var kind = parsed.GetValue(full) ? IntegrityCheck.Full : IntegrityCheck.Quick;
            var verifier = session.Get<BackupVerifier>();
            var results = new List<BackupVerification>();
            foreach (var target in targets)
            {
                BackupVerification result;
                using (var progress = session.CreateProgress())
                {
                    result = verifier.Verify(target, kind, progress, cancellationToken);
                }

                results.Add(result);
                if (!session.Json)
                {
                    session.Output.WriteLine(result.Ok ? $"ok      {result.Name}  (sha256 matches, {result.Check} ok)" : $"FAILED  {result.Name}: {result.Problem}");
                }
            }

            if (session.Json)
            {
                session.WriteJson(results);
            }

            return Task.FromResult(results.TrueForAll(r => r.Ok) ? ExitCodes.Ok : ExitCodes.Failed);
        }));
        return command;
    }
}
