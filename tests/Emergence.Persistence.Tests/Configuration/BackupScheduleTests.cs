using Emergence.Persistence.Configuration;
using Emergence.Persistence.Health;

namespace Emergence.Persistence.Tests.Configuration;

public sealed class BackupScheduleTests
{
    private static readonly DateTimeOffset Noonish = new(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 0 * * * *", "2025-01-14T11:00:00Z", 60)]
    [InlineData("0 */15 * * * *", "2025-01-14T10:45:00Z", 15)]
    [InlineData("0 0 3 * * *", "2025-01-15T03:00:00Z", 1440)]
    [InlineData("0 0 9 * * 1-5", "2025-01-15T09:00:00Z", 3 * 1440)]
    [InlineData("0 0 0 1 * *", "2025-02-01T00:00:00Z", 31 * 1440)]
    public void NextAfterAndLongestInterval_Table(string expression, string next, int intervalMinutes)
    {
        var schedule = BackupSchedule.Parse(expression);

        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), schedule.NextAfter(Noonish));
        Assert.Equal(TimeSpan.FromMinutes(intervalMinutes), schedule.LongestIntervalAfter(Noonish));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0 * * * *")]
    [InlineData("0 0 * * * * *")]
    [InlineData("0 61 * * * *")]
    [InlineData("every hour")]
    [InlineData("99999999999 0 * * * *")]
    [InlineData("0 0 0 30 2 *")]
    [InlineData("0 0 0 29 2 *")]
    [InlineData("0 0 0 1 1 *")]
    public void TryParse_Invalid_SaysWhatIsAccepted(string expression)
    {
        Assert.False(BackupSchedule.TryParse(expression, out _, out var error));
        Assert.Contains("6-field NCRONTAB", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 0, true)]
    [InlineData(-30, 60, false)]
    [InlineData(-120, 60, false)]
    [InlineData(-121, 60, true)]
    [InlineData(-2880, 1440, false)]
    [InlineData(-2881, 1440, true)]
    public void IsStale_Table(int? minutesAgo, int intervalMinutes, bool stale)
    {
        DateTimeOffset? latest = minutesAgo is null ? null : Noonish.AddMinutes(minutesAgo.Value);

        Assert.Equal(stale, BackupStaleness.IsStale(latest, Noonish, TimeSpan.FromMinutes(intervalMinutes)));
    }
}
