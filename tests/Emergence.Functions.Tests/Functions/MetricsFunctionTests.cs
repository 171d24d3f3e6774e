using System.Text.Json;
using Emergence.Functions.Functions;
using Emergence.Functions.Tests.Support;
using Emergence.Persistence.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Metrics;

namespace Emergence.Functions.Tests.Functions;

[Collection(ExportedMetrics.Name)]
public sealed class MetricsFunctionTests : IDisposable
{
    private static readonly string[] PromtoolPaths = ["/usr/bin/promtool", "/usr/local/bin/promtool"];

    private AppHarness _app = new();

    public void Dispose() => _app.Dispose();

    private async Task<(string Text, Dictionary<string, double> Samples)> ScrapeAsync()
    {
        _ = _app.Get<MeterProvider>();
        var context = new DefaultHttpContext();
        var result = Assert.IsType<ContentResult>(await _app.Create<MetricsFunction>().Run(context.Request));
        Assert.Equal(200, result.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", result.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        return (result.Content!, PrometheusScrape.Parse(result.Content!));
    }

    private async Task<JsonElement> HealthAsync()
    {
        var result = Assert.IsType<ContentResult>(await _app.Create<HealthFunction>().Run(new DefaultHttpContext().Request));
        return JsonDocument.Parse(result.Content!).RootElement;
    }

    [Fact]
    public async Task Run_AfterStartupAndABackup_AgreesWithHealthAndTheFiles()
    {
        _ = _app.Get<MeterProvider>();
        await _app.StartAsync();
        await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request);

        var (text, samples) = await ScrapeAsync();

        var health = await HealthAsync();
        var latest = health.GetProperty("backups").GetProperty("latest");
        Assert.Equal(DateTimeOffset.Parse(latest.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0, samples["emergence_backup_last_success_timestamp_seconds"]);
        Assert.Equal(latest.GetProperty("size").GetInt64(), samples["emergence_backup_size_bytes"]);
        Assert.Equal(health.GetProperty("backups").GetProperty("count").GetInt32(), samples["emergence_backups_kept"]);
        Assert.Equal(new FileInfo(_app.DatabasePath).Length, samples["emergence_database_size_bytes"]);
        Assert.Equal(health.GetProperty("volume").GetProperty("size_available").GetInt64(), samples["emergence_volume_free_bytes"]);
        Assert.Equal(0, samples["emergence_health_status"]);
        Assert.Equal(2, samples["emergence_backups_total{result=\"ok\"}"]); // startup's first backup and the one asked for
        Assert.Equal(2, samples["emergence_backup_duration_seconds_count{result=\"ok\"}"]);
        Assert.Equal(2, samples["emergence_backup_duration_seconds_bucket{result=\"ok\",le=\"+Inf\"}"]);
        Assert.Contains("# TYPE emergence_backups_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE emergence_backup_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE emergence_health_status gauge\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AfterABackup_PassesPromtoolCheckMetrics()
    {
        var promtool = PromtoolPaths.FirstOrDefault(File.Exists);
        if (promtool is null)
        {
            var why = "promtool is not installed (apt-get install prometheus; scripts/test.sh does it as root).";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(why + " CI must check the metrics' text.");
            }

            Assert.Skip(why);
        }

        _ = _app.Get<MeterProvider>();
        await _app.StartAsync();
        await _app.Create<CreateBackupFunction>().Run(new DefaultHttpContext().Request);
        var (text, _) = await ScrapeAsync();

        var info = new System.Diagnostics.ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, $"promtool check metrics: {output}\n{text}");
    }

    [Fact]
    public async Task Run_RequiredVolumeMissing_ReportsUnhealthyAsTwo()
    {
        _app.Dispose();
        _app = new AppHarness(new() { ["Persistence:RequireVolume"] = "true" }, mountInfo: "1 0 8:1 / / rw - overlay overlay rw\n");
        await _app.StartAsync();

        var (_, samples) = await ScrapeAsync();

        Assert.Equal(2, samples["emergence_health_status"]);
    }

    [Fact]
    public async Task Anonymous_SettingOff_Answers404()
    {
        await _app.StartAsync();

        var result = await _app.Create<AnonymousMetricsFunction>().Run(new DefaultHttpContext().Request);

        Assert.IsType<NotFoundResult>(result);
    }

    [Fact]
    public async Task Anonymous_SettingOn_AnswersTheMetrics()
    {
        _app.Dispose();
        _app = new AppHarness(new() { ["Persistence:Metrics:Anonymous"] = "true" });
        await _app.StartAsync();
        _ = _app.Get<MeterProvider>();

        var result = Assert.IsType<ContentResult>(await _app.Create<AnonymousMetricsFunction>().Run(new DefaultHttpContext().Request));

        Assert.Equal(200, result.StatusCode);
        Assert.Equal(0, PrometheusScrape.Parse(result.Content!)["emergence_health_status"]);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData(" ")]
    public void Bind_AnonymousNotTrueOrFalse_ThrowsTheOneLineSettingMessage(string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Persistence:Metrics:Anonymous"] = value }).Build();

        var error = Assert.Throws<InvalidSettingException>(() => FunctionAppOptions.Bind(configuration, new FunctionAppOptions()));

        Assert.Equal($"Setting Persistence__Metrics__Anonymous='{value}' is invalid: expected true or false.", error.Message);
    }
}
