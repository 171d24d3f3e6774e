using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 5: the host fires the timers, runs them on demand, and an unresolvable schedule fails the deploy.</summary>
public sealed class TimerTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task ShortSchedule_FiresByItself_AndTheAdminEndpointRunsItNow()
    {
        var volume = NewVolume();
        var app = Deploy(volume, new Dictionary<string, string?> { ["BACKUP_SCHEDULE"] = "*/10 * * * * *" });
        await app.DeployedAsync();

        // Both timers are indexed with their schedules from the settings (the host spells */10 out).
        Assert.Contains(app.Output.Lines, l => l.Trim() == "Host.Functions.RestoreDrill");
        Assert.Contains(app.Output.Lines, l => l.Contains("'ScheduledBackup' schedule (Cron: '0,10,20,30,40,50 * * * * *')", StringComparison.Ordinal));
        Assert.Contains(app.Output.Lines, l => l.Contains("'RestoreDrill' schedule (Cron: '0 30 3 * * *')", StringComparison.Ordinal));

        await app.Output.WaitForAsync(l => l.Contains("Executed 'Functions.ScheduledBackup' (Succeeded", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the timer to fire by itself");
        var scheduled = Manifests(app).Where(m => m.GetProperty("reason").GetString() == "scheduled").ToList();
        Assert.NotEmpty(scheduled);
        var newest = scheduled[^1];
        Assert.Equal(newest.GetProperty("checksum").GetString(),
            app.ExecChecked("sha256sum", "/app/data/backups/" + newest.GetProperty("filename").GetString()).Split(' ')[0]);

        // The admin endpoint with the master key runs the timer function now.
        var (_, masterKey) = await KeysAsync(app);
        var executedBefore = app.Output.Lines.Count(l => l.Contains("Executed 'Functions.ScheduledBackup'", StringComparison.Ordinal));
        await RunScheduledBackupNowAsync(app, masterKey);
        await app.Output.WaitForAsync(
            _ => app.Output.Lines.Count(l => l.Contains("Executed 'Functions.ScheduledBackup' (Succeeded", StringComparison.Ordinal)) > executedBefore,
            TimeSpan.FromSeconds(30), "the admin-triggered run");
        Assert.Contains(app.Output.Events("BackupCompleted"), l => l.Contains("(scheduled)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("DRILL_SCHEDULE", "RestoreDrill")]
    [InlineData("BACKUP_SCHEDULE", "ScheduledBackup")]
    public async Task ScheduleSettingRemoved_FailsTheDeployNamingIt(string setting, string function)
    {
        var volume = NewVolume();
        var app = Deploy(volume, new Dictionary<string, string?> { [setting] = null });

        var check = await app.HealthcheckAsync(TimeSpan.FromSeconds(20));

        // The host disables the timer and logs it; the app refuses to go live and says which setting.
        Assert.False(check.Passed, check.ToString());
        Assert.Contains(app.Output.Lines, l => l.Contains($"'%{setting}%' does not resolve to a value", StringComparison.Ordinal));
        var problems = Json(check.LastBody).GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains($"{setting} is not set", StringComparison.Ordinal) && p.Contains($"{function} timer", StringComparison.Ordinal));
        Assert.Contains(app.Output.Events("StartupFailed"), l => l.Contains(setting, StringComparison.Ordinal));
        Assert.DoesNotContain("database.sqlite", app.ExecChecked("ls", "-A", "/app/data"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidSchedule_NeverGoesLive_AndTheConsoleSaysWhichSetting()
    {
        var volume = NewVolume();
        var app = Deploy(volume, new Dictionary<string, string?> { ["BACKUP_SCHEDULE"] = "every hour" });

        var check = await app.HealthcheckAsync(TimeSpan.FromSeconds(20));
        // On a loaded machine the host can take longer than the healthcheck to start the worker: wait for its refusal.
        await app.Output.WaitForAsync(l => l.Contains("Setting BACKUP_SCHEDULE='every hour' is invalid", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "the worker refusing BACKUP_SCHEDULE");
        var later = await app.HealthcheckAsync(TimeSpan.FromSeconds(5));

        // The worker refuses its settings at start (and the host restarts it), so no poll is ever answered 200.
        Assert.DoesNotContain(200, check.Polls);
        Assert.DoesNotContain(200, later.Polls);
        Assert.DoesNotContain("database.sqlite", app.ExecChecked("ls", "-A", "/app/data"), StringComparison.Ordinal);
    }
}
