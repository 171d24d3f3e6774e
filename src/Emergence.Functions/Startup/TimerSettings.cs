using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;

namespace Emergence.Functions.Startup;

/// <summary>
/// The app settings this app's timers name in their schedules (<c>%BACKUP_SCHEDULE%</c>,
/// <c>%DRILL_SCHEDULE%</c>), found on the functions themselves. The Functions host resolves them from
/// the same environment the worker reads; one it cannot resolve makes it log an indexing error and
/// disable that timer, while everything else keeps running and the deploy would pass its
/// healthcheck. So startup refuses instead: a missing or blank setting fails startup at step
/// <c>settings</c> and health answers 503 naming it, which fails the deploy.
/// </summary>
public sealed partial class TimerSettings(IConfiguration configuration)
{
    /// <summary>(function name, setting name) for every timer whose schedule is <c>%SETTING%</c>.</summary>
    public static IReadOnlyList<(string Function, string Setting)> Referenced { get; } = FindReferenced();

    /// <summary>One sentence naming every referenced setting that is missing or blank, or <see langword="null"/>.</summary>
    public string? Problem()
    {
        var missing = Referenced.Where(timer => string.IsNullOrWhiteSpace(configuration[timer.Setting])).ToList();
        return missing.Count == 0
            ? null
            : string.Join(" ", missing.Select(timer =>
                $"{timer.Setting} is not set, so the Functions host cannot resolve %{timer.Setting}% and disables the {timer.Function} timer; set it to an NCRONTAB schedule (the image's Dockerfile sets a default)."));
    }

    private static List<(string, string)> FindReferenced()
    {
        var timers = new List<(string, string)>();
        foreach (var method in typeof(TimerSettings).Assembly.GetTypes().SelectMany(type => type.GetMethods()))
        {
            if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
            {
                continue;
            }

            foreach (var parameter in method.GetParameters())
            {
                if (parameter.GetCustomAttribute<TimerTriggerAttribute>() is { } trigger && SettingReference().Match(trigger.Schedule) is { Success: true } match)
                {
                    timers.Add((function.Name, match.Groups[1].Value));
                }
            }
        }

        return timers;
    }

    [GeneratedRegex(@"^%([^%]+)%$")]
    private static partial Regex SettingReference();
}
