using System.Net;
using System.Text.RegularExpressions;
using Emergence.Functions.HostTests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>Scenario 3: a deploy without its volume never passes the healthcheck and writes nothing.</summary>
public sealed class MissingVolumeTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    /// <summary>
    /// How long a failing deploy is watched. Railway would keep polling for the whole healthcheck timeout;
    /// the app re-checks the volume every Persistence__VolumeCheckSeconds and the test sees it stay at 503 across re-checks.
    /// </summary>
    private static readonly TimeSpan Watched = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task NoMountAtAppData_Answers503FromTheFirstPollAndWritesNothing()
    {
        // /app/data exists on the container's layer, but no volume is attached (no RAILWAY_VOLUME_MOUNT_PATH either).
        var app = Deploy(new ContainerSpec { LayerDirectories = ["/app/data"], Variables = new Dictionary<string, string?> { ["Persistence__VolumeCheckSeconds"] = "5" } });

        var check = await app.HealthcheckAsync(Watched);

        AssertDeployFails(app, check);
        var report = Json(check.LastBody);
        Assert.Equal("unhealthy", report.GetProperty("status").GetString());
        Assert.Contains(Problems(report), p => p.Contains("/app/data", StringComparison.Ordinal));
        Assert.False(report.GetProperty("volume").GetProperty("mounted").GetBoolean());

        // Nothing was written where a redeploy would lose it: not in /app/data, not in the fallback directory.
        Assert.Equal("", app.ExecChecked("ls", "-A", "/app/data").Trim());
        Assert.NotEqual(0, app.Exec("test", "-e", "/tmp/emergence-fallback").Exit);
        Assert.NotEmpty(app.Output.Events("VolumeProblem"));
        Assert.True(app.Output.Events("VolumeAwaited").Count >= 2, $"the app did not keep checking the volume:\n{app.Output.Tail()}");
        Assert.Empty(app.Output.Events("DatabaseCreated"));
        Assert.Empty(app.Output.Events("FallbackInUse"));
    }

    [Fact]
    public async Task VolumeMountedElsewhere_NamesBothPaths()
    {
        // Railway mounted the volume at /data (RAILWAY_VOLUME_MOUNT_PATH says so) while the image's database path is /app/data.
        var volume = NewVolume();
        var app = Deploy(new ContainerSpec { Volume = volume, MountPath = "/data", LayerDirectories = ["/app/data"] });

        var check = await app.HealthcheckAsync(Watched);

        AssertDeployFails(app, check);
        var problems = Problems(Json(check.LastBody));
        Assert.Contains(problems, p => p.Contains("/app/data", StringComparison.Ordinal) && Regex.IsMatch(p, @"(?<![\w/])/data(?![\w/])"));
        Assert.Equal("", app.ExecChecked("ls", "-A", "/app/data").Trim());
        Assert.DoesNotContain("database.sqlite", app.ExecChecked("ls", "-A", "/data"), StringComparison.Ordinal);
    }

    /// <summary>
    /// Railway's verdict: the deploy fails when no poll answers 200 before the timeout. Every answer
    /// was 503 from the first, and the app is still waiting for the volume when the watch ends.
    /// </summary>
    private static void AssertDeployFails(Container app, Healthcheck check)
    {
        Assert.False(check.Passed, check.ToString());
        Assert.False(app.HasExited, $"the app exited instead of waiting for its volume:\n{app.Output.Tail()}");
        var answers = check.Polls.Where(status => status != 0).ToList();
        Assert.True(answers.Count >= 10, check.ToString());
        Assert.All(answers, status => Assert.Equal((int)HttpStatusCode.ServiceUnavailable, status));
    }

    private static List<string> Problems(System.Text.Json.JsonElement report) =>
        report.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
}
