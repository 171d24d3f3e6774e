using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>
/// Scenario 9: the events an operator searches for reach the host's console, by name, from hosted
/// services as well as from functions. (BackupFailed, RestorePerformed and VolumeProblem are asserted
/// where the scenarios cause them.)
/// </summary>
public sealed class LogTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task FallbackInUse_IsLoggedThroughTheHost()
    {
        // A service that turned off the volume requirement, and /app/data cannot be written: the loud fallback.
        var app = Deploy(new ContainerSpec
        {
            ReadOnlyDirectories = ["/app/data"],
            Variables = new Dictionary<string, string?> { ["Persistence__RequireVolume"] = "false" },
        });

        var fallback = await app.Output.WaitForEventAsync("FallbackInUse", TimeSpan.FromSeconds(60));
        await app.Output.WaitForEventAsync("StartupCompleted", TimeSpan.FromSeconds(60));

        Assert.StartsWith("error FallbackInUse[1002] ", fallback.Trim(), StringComparison.Ordinal);
        Assert.Contains("/app/data", fallback, StringComparison.Ordinal);
        Assert.Contains("/tmp/emergence-fallback", fallback, StringComparison.Ordinal);
        Assert.NotEmpty(app.Output.Events("VolumeProblem"));
        // Without the requirement the fallback is the operator's choice: live, but degraded and saying so.
        var check = await app.HealthcheckAsync(TimeSpan.FromSeconds(10));
        Assert.True(check.Passed, check.ToString());
        var report = Json(check.LastBody);
        Assert.Equal("degraded", report.GetProperty("status").GetString());
        Assert.True(report.GetProperty("database").GetProperty("fallback").GetBoolean());
    }

    [Fact]
    public async Task Events_ArriveOnceEach_AsLinesTheHostRelays()
    {
        var volume = NewVolume();
        var app = Deploy(volume);
        await app.DeployedAsync();
        var lines = app.Output.Lines;

        var completed = Assert.Single(app.Output.Events("StartupCompleted"));
        var index = lines.ToList().IndexOf(completed);
        Assert.Equal("info: Host.Function.Console[0]", lines[index - 1]);
        Assert.Matches(@"^\s+information StartupCompleted\[4004\] Emergence\.Persistence\.Startup\.StartupSequence: Startup finished for /app/data/database\.sqlite", completed);
    }
}
