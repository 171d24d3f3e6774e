using NCrontab;

namespace Emergence.Persistence.Backups;

/// <summary>
/// The backup timer's 6-field NCRONTAB schedule (<c>sec min hour day month weekday</c>, UTC), parsed
/// with the library the Functions host uses, so the app computes the same occurrences as the timer.
/// </summary>
public sealed class BackupSchedule
{
    private const int OccurrencesSampled = 32;
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

        try
        {
            schedule = new BackupSchedule(expression!.Trim(), CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true }));
            error = null;
            return true;
        }
        catch (CrontabException ex)
        {
            error = $"expected a 6-field NCRONTAB expression 'sec min hour day month weekday' ({ex.Message.Split('\n')[0].Trim()}).";
            return false;
        }
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
