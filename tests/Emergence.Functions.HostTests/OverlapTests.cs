using System.Net;
using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 7: a second container on the same volume waits for the first, and is never a second writer.</summary>
public sealed class OverlapTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    [Fact]
    public async Task SecondContainer_Answers503NamingTheHolder_UntilTheFirstStops()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        var second = Deploy(volume);

        var waiting = await second.HealthcheckAsync(TimeSpan.FromSeconds(15));
        AssertWaitsFor(first, second, waiting);

        var stoppedAt = DateTime.UtcNow;
        Assert.True(await first.StopAsync());
        var check = await second.DeployedAsync();
        Assert.Equal("healthy", Json(check.LastBody).GetProperty("status").GetString());
        await second.Output.WaitForEventAsync("LockAcquiredAfterWait", TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - stoppedAt < TimeSpan.FromSeconds(60), "the second container took over too slowly");
        Assert.Contains(second.Name, second.ExecChecked("cat", "/app/data/.emergence.lock"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstContainerKilled_TheSecondProceeds()
    {
        var volume = NewVolume();
        var first = Deploy(volume);
        await first.DeployedAsync();
        var second = Deploy(volume);
        AssertWaitsFor(first, second, await second.HealthcheckAsync(TimeSpan.FromSeconds(10)));

        await first.KillAsync();

        await second.DeployedAsync();
        Assert.Equal("ok", Sqlite(second, DatabasePath, "PRAGMA integrity_check;"));
    }

    /// <summary>The second answers only 503, names the first as the lock holder, and has written nothing.</summary>
    private static void AssertWaitsFor(Container first, Container second, Healthcheck waiting)
    {
        Assert.False(waiting.Passed, waiting.ToString());
        Assert.All(waiting.Polls.Where(s => s != 0), s => Assert.Equal((int)HttpStatusCode.ServiceUnavailable, s));
        Assert.Contains(Json(waiting.LastBody).GetProperty("problems").EnumerateArray(), p =>
            p.GetString()!.StartsWith("Startup is waiting for the volume lock", StringComparison.Ordinal) && p.GetString()!.Contains($" on {first.Name} ", StringComparison.Ordinal));
        Assert.Single(second.Output.Events("LockWaiting"));
        foreach (var write in new[] { "BackupStarted", "MigrationApplied", "DatabaseCreated", "RestorePerformed", "BackupLeftoversSwept" })
        {
            Assert.Empty(second.Output.Events(write));
        }
    }
}
