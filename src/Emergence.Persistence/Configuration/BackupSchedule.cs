using NCrontab;

namespace Emergence.Persistence.Configuration;

/// <summary>
/// The backup timer's 6-field NCRONTAB schedule (<c>sec min hour day month weekday</c>, UTC), parsed
/// with the library the Functions host uses, so the app computes the same occurrences as the timer.
/// </summary>
public sealed class BackupSchedule
{
    private const int OccurrencesSampled = 32;

    /// <summary>The longest a schedule may go without firing: a month, so monthly schedules pass and "30 February" does not.</summary>
    public static readonly TimeSpan LongestAllowedGap = TimeSpan.FromDays(31);

    /// <summary>Where the check of how often a schedule fires starts: fixed, so a schedule is accepted or refused the same way every day.</summary>
    private static readonly DateTime GapCheckStart = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>How far the check looks: four years, so leap days are met.</summary>
    private const int GapCheckDays = 4 * 366;
    private readonly CrontabSchedule _schedule;

    private BackupSchedule(string expression, CrontabSchedule schedule)
    {
        Expression = expression;
        _schedule = schedule;
    }

    /// <summary>The expression as configured.</summary>
    public string Expression { get; }

    /// <summary>Parses a schedule; returns <see langword="false"/> with a message saying what is accepted.</summary>
    public static bool TryParse(string? expression, out BackupSchedule? schedule, out string? error)
    {
        schedule = null;
        var fields = expression?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (fields.Length != 6)
        {
            error = "expected a 6-field NCRONTAB expression 'sec min hour day month weekday', e.g. '0 0 * * * *' for hourly.";
            return false;
        }

        CrontabSchedule parsed;
        try
        {
            parsed = CrontabSchedule.Parse(expression!, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        }
        catch (Exception ex) when (ex is CrontabException or OverflowException or FormatException or ArgumentException)
        {
            // NCrontab throws OverflowException, not CrontabException, for a number beyond Int32 ('99999999999').
            error = $"expected a 6-field NCRONTAB expression 'sec min hour day month weekday' ({Platform.Printable.Escape(ex.Message.Split('\n')[0].Trim())}).";
            return false;
        }

        if (LongestGap(parsed) is { } gap)
        {
            error = gap == TimeSpan.MaxValue
                ? "the schedule never fires (no date matches it); expected a 6-field NCRONTAB expression 'sec min hour day month weekday' that fires at least once every 31 days, e.g. '0 0 * * * *' for hourly."
                : $"the schedule can go {(int)gap.TotalDays} days without firing; expected a 6-field NCRONTAB expression 'sec min hour day month weekday' that fires at least once every 31 days, e.g. '0 0 * * * *' for hourly.";
            return false;
        }

        schedule = new BackupSchedule(expression!.Trim(), parsed);
        error = null;
        return true;
    }

    /// <summary>
    /// The longest gap between firings over the checked years when it exceeds <see cref="LongestAllowedGap"/>
    /// (<see cref="TimeSpan.MaxValue"/> when it never fires); <see langword="null"/> when it fires often enough.
    /// Sampled once a day: the next firing after each midnight must come within the allowed gap.
    /// </summary>
    private static TimeSpan? LongestGap(CrontabSchedule schedule)
    {
        var end = GapCheckStart.AddDays(GapCheckDays) + LongestAllowedGap;
        var longest = TimeSpan.Zero;
        for (var day = 0; day < GapCheckDays; day++)
        {
            var from = GapCheckStart.AddDays(day);
            var next = schedule.GetNextOccurrence(from, end);
            if (next >= end)
            {
                return day == 0 ? TimeSpan.MaxValue : end - from;
            }

            if (next - from > longest)
            {
                longest = next - from;
            }

            if (longest > LongestAllowedGap)
            {
                return longest;
            }

            // Skip to the firing found: no day before it can see a longer gap than the one measured from here.
            day = Math.Max(day, (int)(next.Date - GapCheckStart).TotalDays);
        }

        return null;
    }

    /// <summary>Parses a schedule already validated by the settings.</summary>
    public static BackupSchedule Parse(string expression) =>
        TryParse(expression, out var schedule, out var error) ? schedule! : throw new FormatException(error);

    /// <summary>The first occurrence strictly after <paramref name="fromUtc"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset fromUtc) =>
        new(DateTime.SpecifyKind(_schedule.GetNextOccurrence(fromUtc.UtcDateTime), DateTimeKind.Utc));

    /// <summary>
    /// The longest gap between consecutive occurrences over the next stretch of the schedule: the
    /// interval a backup is expected within. For a regular schedule it is simply its period.
    /// </summary>
    public TimeSpan LongestIntervalAfter(DateTimeOffset fromUtc)
    {
        var previous = NextAfter(fromUtc);
        var longest = TimeSpan.Zero;
        for (var i = 0; i < OccurrencesSampled; i++)
        {
            var next = NextAfter(previous);
            if (next - previous > longest)
            {
                longest = next - previous;
            }

            previous = next;
        }

        return longest;
    }
}
