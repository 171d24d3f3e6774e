using System.Text.Json;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// A rehearsal scenario: its volumes and containers are torn down when it ends (containers killed,
/// loop devices detached), whatever happened.
/// </summary>
public abstract class RehearsalTest(Rehearsal rehearsal) : IAsyncLifetime
{
    /// <summary>The image's database path; the scenarios use it as the Dockerfile sets it.</summary>
    protected const string DatabasePath = "/app/data/database.sqlite";

    private readonly List<Container> _containers = [];
    private readonly List<LoopVolume> _volumes = [];

    protected Rehearsal Rehearsal { get; } = rehearsal;

    public ValueTask InitializeAsync()
    {
        Rehearsal.Require();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var container in _containers)
        {
            await container.DisposeAsync();
        }

        foreach (var volume in _volumes)
        {
            volume.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>A new, empty volume (ext4).</summary>
    protected LoopVolume NewVolume(int sizeMiB = 64)
    {
        var volume = LoopVolume.Create(Rehearsal, sizeMiB);
        _volumes.Add(volume);
        return volume;
    }

    /// <summary>Starts a container of the service (a deploy) with the volume at /app/data, unless the spec says otherwise.</summary>
    protected Container Deploy(ContainerSpec spec)
    {
        var container = Container.Start(Rehearsal, spec);
        _containers.Add(container);
        return container;
    }

    protected Container Deploy(LoopVolume volume, IReadOnlyDictionary<string, string?>? variables = null) =>
        Deploy(new ContainerSpec { Volume = volume, Variables = variables ?? new Dictionary<string, string?>() });

    /// <summary>Runs the sqlite3 shell on a database inside a running container.</summary>
    protected static string Sqlite(Container container, string database, string sql) =>
        container.ExecChecked("sqlite3", "-batch", database, sql).Trim();

    /// <summary>Runs a command with the volume at /app/data in a one-off container and returns its output.</summary>
    protected string Shell(LoopVolume volume, params string[] command)
    {
        var (exit, output) = Container.Run(Rehearsal, new ContainerSpec { Volume = volume }, command);
        Assert.True(exit == 0, $"{string.Join(' ', command)} exited {exit}: {output}");
        return output.Trim();
    }

    /// <summary>The backups' manifests in a running container, in backup order, read as JSON.</summary>
    protected static List<JsonElement> Manifests(Container container) =>
        container.ExecChecked("sh", "-c", "cd /app/data/backups 2>/dev/null && ls -1 | grep '\\.json$' || true")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => Json(container.ExecChecked("cat", "/app/data/backups/" + name)))
            .OrderBy(m => m.GetProperty("sequence").GetInt64())
            .ToList();

    /// <summary>
    /// The host's keys, from <c>/app/data/secrets/host.json</c> (files secret storage on the volume).
    /// The host writes the file when it first looks a key up, so a request with some key comes first.
    /// </summary>
    protected static async Task<(string FunctionKey, string MasterKey)> KeysAsync(Container app)
    {
        const string path = "/app/data/secrets/host.json";
        for (var attempt = 0; app.Exec("test", "-s", path).Exit != 0; attempt++)
        {
            Assert.True(attempt < 20, $"the host wrote no {path}:\n{app.Output.Tail()}");
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/backups");
            request.Headers.Add("x-functions-key", "look-the-keys-up");
            using var response = await app.Http.SendAsync(request, TestContext.Current.CancellationToken);
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        var secrets = Json(app.ExecChecked("cat", path));
        var functionKey = secrets.GetProperty("functionKeys").EnumerateArray()
            .Single(k => k.GetProperty("name").GetString() == "default").GetProperty("value").GetString()!;
        return (functionKey, secrets.GetProperty("masterKey").GetProperty("value").GetString()!);
    }

    /// <summary>Runs the ScheduledBackup timer now through the host's admin endpoint (master key), as an operator would.</summary>
    protected static async Task RunScheduledBackupNowAsync(Container app, string masterKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/functions/ScheduledBackup")
        {
            Content = new StringContent("{\"input\":\"\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-functions-key", masterKey);
        using var response = await app.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>
    /// Polls <c>/api/health</c> about once a second until its report satisfies <paramref name="condition"/>
    /// and returns that report, or fails with the last one once <paramref name="timeout"/> is up.
    /// </summary>
    protected static async Task<JsonElement> HealthWhenAsync(Container app, Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        string? last = null;
        while (waited.Elapsed < timeout)
        {
            Assert.False(app.HasExited, $"{app.Name} exited while waiting for {what}:\n{app.Output.Tail()}");
            using (var response = await app.Http.GetAsync(RailwayDeploy.HealthcheckPath.TrimStart('/'), TestContext.Current.CancellationToken))
            {
                last = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            }

            if (!string.IsNullOrEmpty(last) && condition(Json(last)))
            {
                return Json(last);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }

        Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}; the last report: {last}");
        return default;
    }

    protected static JsonElement Json(string? text)
    {
        Assert.False(string.IsNullOrEmpty(text), "no body");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
