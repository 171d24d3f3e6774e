using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Emergence.Functions.HostTests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests;

/// <summary>
/// <c>GET /api/metrics</c> under the real host: after a backup, a replicated write and a drill, the text passes
/// <c>promtool check metrics</c> and its values agree with <c>/api/health</c> and with the files on the volume.
/// </summary>
public sealed class MetricsTests(Rehearsal rehearsal) : RehearsalTest(rehearsal)
{
    private static readonly string[] PromtoolPaths = ["/usr/bin/promtool", "/usr/local/bin/promtool"];

    [Fact]
    public async Task Metrics_AfterABackupAReplicatedWriteAndADrill_PassPromtoolAndAgreeWithHealthAndTheVolume()
    {
        var promtool = RequirePromtool();
        if (!Rehearsal.Host!.EnforcesKeys)
        {
            Assert.Skip($"{Rehearsal.Host.Description} does not enforce function keys.");
        }

        using var azurite = Azurite.Start();
        var app = Deploy(NewVolume(), new Dictionary<string, string?>
        {
            ["Persistence__Offsite__ConnectionString"] = azurite.ConnectionString,
            ["Persistence__Offsite__Container"] = "rehearsal",
        });
        await app.DeployedAsync();
        var (functionKey, masterKey) = await KeysAsync(app);

        Sqlite(app, DatabasePath, "CREATE TABLE metric_rows (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO metric_rows (note) SELECT 'row ' || value FROM generate_series(1, 100);");
        await RunScheduledBackupNowAsync(app, masterKey);
        await RunNowAsync(app, "RestoreDrill", masterKey);
        var health = await HealthWhenAsync(app, h => h.GetProperty("backups").GetProperty("offsite").GetProperty("drill").ValueKind == JsonValueKind.Object
            && h.GetProperty("backups").GetProperty("replication").GetProperty("lag_seconds").ValueKind == JsonValueKind.Number
            && h.GetProperty("backups").GetProperty("count").GetInt32() >= 2);

        // Within the health cache's 5 s, so the scrape reads the same report as the health call that follows it.
        var (status, text) = await GetAsync(app, "api/metrics", functionKey);
        health = Json((await GetAsync(app, "api/health", key: null)).Body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "api/metrics", key: null)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(app, "api/metrics/anonymous", key: null)).Status);
        var check = await PromtoolAsync(promtool, text);
        Assert.True(check.Exit == 0, $"promtool check metrics: {check.Output}\n{text}");
        var samples = Parse(text);
        var backups = health.GetProperty("backups");
        var latest = backups.GetProperty("latest");
        Assert.Equal(Seconds(latest.GetProperty("timestamp").GetString()!), samples["emergence_backup_last_success_timestamp_seconds"]);
        Assert.Equal(latest.GetProperty("size").GetInt64(), samples["emergence_backup_size_bytes"]);
        Assert.Equal(backups.GetProperty("count").GetInt32(), samples["emergence_backups_kept"]);
        Assert.Equal(Manifests(app).Count, samples["emergence_backups_kept"]);
        var onVolume = app.ExecChecked("sh", "-c", $"stat -c %s {DatabasePath} {DatabasePath}-wal 2>/dev/null || true").Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(size => long.Parse(size.Trim(), CultureInfo.InvariantCulture));
        Assert.Equal(onVolume, samples["emergence_database_size_bytes"]); // the file and its -wal
        Assert.Equal(health.GetProperty("database").GetProperty("size").GetInt64(), samples["emergence_database_size_bytes"]);
        Assert.Equal(health.GetProperty("volume").GetProperty("size_available").GetInt64(), samples["emergence_volume_free_bytes"]);
        Assert.Equal(health.GetProperty("status").GetString() switch { "healthy" => 0, "degraded" => 1, _ => 2 }, samples["emergence_health_status"]);
        Assert.True(samples["emergence_backups_total{result=\"ok\"}"] >= 2, text); // startup's and the timer's
        var drill = backups.GetProperty("offsite").GetProperty("drill");
        Assert.True(drill.GetProperty("ok").GetBoolean(), drill.ToString());
        Assert.Equal(1, samples["emergence_drills_total{result=\"ok\"}"]);
        Assert.Equal(Seconds(drill.GetProperty("at").GetString()!), Math.Floor(samples["emergence_drill_last_success_timestamp_seconds"]));
        var replication = backups.GetProperty("replication");
        Assert.Equal(replication.GetProperty("log_bytes").GetInt64(), samples["emergence_replication_wal_size_bytes"]);
        Assert.InRange(samples["emergence_replication_lag_seconds"], replication.GetProperty("lag_seconds").GetInt64(), replication.GetProperty("lag_seconds").GetInt64() + 10);
        var uploads = samples.Where(s => s.Key.StartsWith("emergence_offsite_requests_total{", StringComparison.Ordinal) && s.Key.Contains("target=\"azure:rehearsal\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(uploads, s => s.Key.Contains("operation=\"put_blob\"", StringComparison.Ordinal) || s.Key.Contains("operation=\"put_block_list\"", StringComparison.Ordinal));
        Assert.Equal(0, samples.Where(s => s.Key.StartsWith("emergence_offsite_errors_total{", StringComparison.Ordinal)).Sum(s => s.Value));
    }

    private static string RequirePromtool()
    {
        if (PromtoolPaths.FirstOrDefault(File.Exists) is { } path)
        {
            return path;
        }

        var why = "promtool is not installed (apt-get install prometheus; scripts/test.sh does it as root).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(why + " CI must check the metrics' text.");
        }

        Assert.Skip(why);
        return null!;
    }

    private static async Task RunNowAsync(Container app, string function, string masterKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"admin/functions/{function}")
        {
            Content = new StringContent("{\"input\":\"\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-functions-key", masterKey);
        using var response = await app.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<JsonElement> HealthWhenAsync(Container app, Func<JsonElement, bool> ready)
    {
        var deadline = Stopwatch.StartNew();
        string? last = null;
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            var (status, body) = await GetAsync(app, "api/health", key: null);
            last = body;
            if (status == HttpStatusCode.OK)
            {
                var health = Json(body);
                try
                {
                    if (ready(health))
                    {
                        return health;
                    }
                }
                catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
                {
                    // A section not there yet.
                }
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"health did not show the backup, the replicated write and the drill within 120 s: {last}\n{app.Output.Tail()}");
        return default;
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(Container app, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }

        using var response = await app.Http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<(int Exit, string Output)> PromtoolAsync(string promtool, string text)
    {
        var info = new ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, output);
    }

    private static double Seconds(string timestamp) => DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0;

    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
