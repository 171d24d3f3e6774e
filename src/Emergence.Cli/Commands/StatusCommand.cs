using System.CommandLine;
using Emergence.Persistence.Database;
using Emergence.Persistence.Health;
using Emergence.Persistence.Records;

namespace Emergence.Cli.Commands;

/// <summary><c>status [--json]</c>: the health report; exit 0 healthy, 1 degraded, 2 unhealthy.</summary>
internal static class StatusCommand
{
    public static Command Create(CommandContext context)
    {
        var json = CommandContext.JsonOption();
        var fast = new Option<bool>("--fast") { Description = "Skip the fresh quick_check of the database; report the last recorded check instead." };
        var command = new Command("status", "Report on the volume, the database and its backups (exit 0 healthy, 1 degraded, 2 unhealthy).") { json, fast };
        command.SetAction((parsed, _) => context.RunAsync(parsed, json, session =>
        {
            // The configured paths, as they are: an operator's command never falls back or creates directories.
            var location = session.Get<DatabaseLocator>().Configured();
            var report = session.Get<HealthReporter>().Check(location, freshIntegrityCheck: !parsed.GetValue(fast));
            Print(session, report);
            return Task.FromResult(ExitCodeFor(report.Status));
        }));
        return command;
    }

    /// <summary>The exit code for a health status.</summary>
    public static int ExitCodeFor(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => ExitCodes.Ok,
        HealthStatus.Degraded => ExitCodes.Failed,
        _ => ExitCodes.Unhealthy,
    };

    /// <summary>Prints a report as JSON or as text.</summary>
    public static void Print(CliSession session, HealthReport report)
    {
        if (session.Json)
        {
            session.WriteJson(report);
            return;
        }

        var o = session.Output;
        var v = report.Volume;
        var d = report.Database;
        var b = report.Backups;
        o.WriteLine($"status:    {report.Status.ToString().ToLowerInvariant()}");
        o.WriteLine($"database:  {d.Path}{(d.Exists ? $" ({Format.Bytes(d.Size)}, schema version {d.UserVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, SQLite {d.SqliteVersion})" : " (missing)")}{(d.Fallback ? "  [FALLBACK]" : "")}");
        o.WriteLine($"volume:    {v.Path} on {v.Filesystem ?? "?"} at {v.MountPoint ?? "?"}, {(v.Mounted ? "mounted volume" : "not a mounted volume")}, {(v.Writable ? "writable" : "NOT WRITABLE")}, {Format.Bytes(v.SizeAvailable)} free of {Format.Bytes(v.SizeTotal)}");
        if (v.ExpectedMountPath is not null)
        {
            o.WriteLine($"railway:   volume announced at {v.ExpectedMountPath}");
        }

        if (d.Integrity is { } check)
        {
            o.WriteLine($"integrity: {check.Result} ({check.Source}, {UtcSecondsConverter.Format(check.CheckedAt)})");
        }

        var latest = b.Latest is null ? "none yet" : $"newest {b.Latest.Filename} ({Format.Age(TimeSpan.FromSeconds(b.LatestAgeSeconds ?? 0))})";
        o.WriteLine($"backups:   {b.Count} in {b.Directory}; {latest}; next due {(b.NextDue is { } due ? UtcSecondsConverter.Format(due) : "")}");
        foreach (var problem in report.Problems)
        {
            o.WriteLine($"problem:   {problem}");
        }
    }
}
