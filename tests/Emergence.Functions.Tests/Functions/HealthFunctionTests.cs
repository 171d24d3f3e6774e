using System.Text.Json;
using Emergence.Functions.Functions;
using Emergence.Functions.Startup;
using Emergence.Functions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Emergence.Functions.Tests.Functions;

public sealed class HealthFunctionTests : IDisposable
{
    private AppHarness _app = new();

    public void Dispose() => _app.Dispose();

    private async Task<(int Status, JsonElement Body)> GetHealthAsync()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var result = Assert.IsType<ContentResult>(await _app.Create<HealthFunction>().Run(context.Request));
        Assert.Equal("application/json; charset=utf-8", result.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        return (result.StatusCode!.Value, JsonDocument.Parse(result.Content!).RootElement);
    }

    [Fact]
    public async Task Run_AfterStartup_Answers200WithTheDocumentedFields()
    {
        await _app.StartAsync();

        var (status, body) = await GetHealthAsync();

        Assert.Equal(200, status);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("2025-01-14T10:30:00Z", body.GetProperty("checked_at").GetString());
        var volume = body.GetProperty("volume");
        foreach (var field in new[] { "mounted", "path", "writable", "size_available", "database_exists", "last_check", "filesystem", "mount_point", "expected_mount_path" })
        {
            Assert.True(volume.TryGetProperty(field, out _), $"volume.{field} missing");
        }

        var database = body.GetProperty("database");
        Assert.Equal(_app.DatabasePath, database.GetProperty("path").GetString());
        Assert.False(database.GetProperty("fallback").GetBoolean());
        Assert.True(database.GetProperty("size").GetInt64() > 0);
        Assert.StartsWith("3.", database.GetProperty("sqlite_version").GetString(), StringComparison.Ordinal);
        var backups = body.GetProperty("backups");
        Assert.Equal(1, backups.GetProperty("count").GetInt32());
        Assert.Equal("startup", backups.GetProperty("latest").GetProperty("reason").GetString());
        Assert.Equal(0, backups.GetProperty("latest_age_seconds").GetInt64());
        Assert.Equal("2025-01-14T11:00:00Z", backups.GetProperty("next_due").GetString());
        Assert.Equal(JsonValueKind.Null, backups.GetProperty("last_error").ValueKind);
        Assert.Empty(body.GetProperty("problems").EnumerateArray());
    }

    [Fact]
    public async Task Run_RequiredVolumeMissing_Answers503WithAProblemSentence()
    {
        _app.Dispose();
        _app = new AppHarness(new() { ["Persistence:RequireVolume"] = "true" }, mountInfo: "1 0 8:1 / / rw - overlay overlay rw\n");
        await _app.StartAsync();

        var (status, body) = await GetHealthAsync();

        Assert.Equal(503, status);
        Assert.Equal("unhealthy", body.GetProperty("status").GetString());
        Assert.False(body.GetProperty("volume").GetProperty("mounted").GetBoolean());
        Assert.Contains(body.GetProperty("problems").EnumerateArray(), p =>
            p.GetString()!.StartsWith($"The database directory {Path.GetDirectoryName(_app.DatabasePath)} is not a mounted volume", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_BeforeStartupFinishes_Answers503StartingWithoutCreatingTheDatabase()
    {
        var (status, body) = await GetHealthAsync();

        Assert.Equal(503, status);
        Assert.Contains(body.GetProperty("problems").EnumerateArray(), p => p.GetString() == StartupState.StartingProblem);
        Assert.False(File.Exists(_app.DatabasePath));
    }

    [Fact]
    public async Task Run_ManyCallsWithinTheCacheWindow_ServeOneReport()
    {
        await _app.StartAsync();
        var (_, first) = await GetHealthAsync();
        File.Delete(_app.DatabasePath);

        var (cachedStatus, cached) = await GetHealthAsync();
        _app.Time.Advance(TimeSpan.FromSeconds(6));
        var (freshStatus, _) = await GetHealthAsync();

        Assert.Equal(200, cachedStatus);
        Assert.Equal(first.GetProperty("checked_at").GetString(), cached.GetProperty("checked_at").GetString());
        Assert.Equal(503, freshStatus);
    }

    [Fact]
    public async Task Run_ResponseBody_HasNoStackTrace()
    {
        await _app.StartAsync();
        File.WriteAllText(_app.DatabasePath, new string('x', 8192));
        File.Delete(_app.DatabasePath + "-wal");
        File.Delete(_app.DatabasePath + "-shm");

        var context = new DefaultHttpContext();
        var result = Assert.IsType<ContentResult>(await _app.Create<HealthFunction>().Run(context.Request));

        Assert.Equal(503, result.StatusCode);
        Assert.DoesNotContain("   at ", result.Content, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Content, StringComparison.Ordinal);
    }
}
