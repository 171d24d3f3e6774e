using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary>The off-volume commands against a real Azurite on loopback.</summary>
public sealed class OffsiteCliTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private Azurite? _azurite;

    public void Dispose()
    {
        _azurite?.Dispose();
        _cli.Dispose();
    }

    private Azurite UseAzurite()
    {
        _azurite = Azurite.Start();
        _cli.Settings["Persistence__Offsite__ConnectionString"] = _azurite.ConnectionString;
        _cli.Settings["Persistence__Offsite__Container"] = "cli-backups";
        return _azurite;
    }

    private void WipeVolume() => Directory.Delete(Path.GetDirectoryName(_cli.DatabasePath)!, recursive: true);

    [Fact]
    public async Task Backup_CopiesOffTheVolume_AndListOffsiteShowsIt()
    {
        UseAzurite();
        await _cli.RunAsync("startup");
        _cli.Time.Advance(TimeSpan.FromMinutes(1));

        var (exit, output, error) = await _cli.RunAsync("backup");

        Assert.True(exit == 0, error);
        Assert.Contains("offsite:   copied database_backup_20250114_103100.sqlite to container cli-backups (2 backups there)", output, StringComparison.Ordinal);
        var (listExit, listed, _) = await _cli.RunAsync("list", "--offsite", "--json");
        Assert.Equal(0, listExit);
        var rows = JsonDocument.Parse(listed).RootElement.EnumerateArray().ToList();
        Assert.Equal(["database_backup_20250114_103100.sqlite", "database_backup_20250114_103000.sqlite"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("verified").GetBoolean()));
    }

    [Fact]
    public async Task RestoreOffsite_OnAWipedVolume_PutsTheDatabaseBack()
    {
        UseAzurite();
        await _cli.RunAsync("startup");
        Assert.Equal(0, Shell.Run("sqlite3", _cli.DatabasePath, "CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('survived');").Exit);
        _cli.Time.Advance(TimeSpan.FromMinutes(1));
        await _cli.RunAsync("backup");
        WipeVolume();
        Directory.CreateDirectory(Path.GetDirectoryName(_cli.DatabasePath)!);

        var (exit, output, error) = await _cli.RunAsync("restore", "--offsite", "--latest");

        Assert.True(exit == 0, error);
        Assert.Contains("restored:    database_backup_20250114_103100.sqlite (from the off-volume container cli-backups)", output, StringComparison.Ordinal);
        Assert.Equal("survived", Sqlite3.Query(_cli.DatabasePath, "SELECT v FROM kept;"));
    }

    [Fact]
    public async Task Startup_OnAWipedVolume_RecoversFromTheContainer_InASeparateProcess()
    {
        UseAzurite();
        Assert.Equal(0, _cli.RunProcess("startup").Exit);
        Assert.Equal(0, Shell.Run("sqlite3", _cli.DatabasePath, "CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('survived');").Exit);
        Assert.Equal(0, _cli.RunProcess("backup").Exit);
        WipeVolume();

        var (exit, output, error) = _cli.RunProcess("startup");

        Assert.True(exit is 0 or 1, error);
        Assert.Contains("from the off-volume container cli-backups", output, StringComparison.Ordinal);
        Assert.Equal("survived", Sqlite3.Query(_cli.DatabasePath, "SELECT v FROM kept;"));
    }

    [Fact]
    public async Task Drill_PassesAndIsReportedByStatus()
    {
        UseAzurite();
        await _cli.RunAsync("startup");

        var (exit, output, error) = await _cli.RunAsync("drill");

        Assert.True(exit == 0, error);
        Assert.Contains("drill:     passed: database_backup_20250114_103000.sqlite", output, StringComparison.Ordinal);
        var (_, status, _) = await _cli.RunAsync("status", "--json");
        var drill = JsonDocument.Parse(status).RootElement.GetProperty("backups").GetProperty("offsite").GetProperty("drill");
        Assert.True(drill.GetProperty("ok").GetBoolean());
        Assert.Equal("database_backup_20250114_103000.sqlite", drill.GetProperty("backup").GetString());
    }

    [Fact]
    public async Task Backup_WhileTheStorageServiceIsDown_KeepsTheLocalBackup_WarnsAndStatusIsDegraded()
    {
        var azurite = UseAzurite();
        await _cli.RunAsync("startup");
        azurite.Kill();
        _cli.Time.Advance(TimeSpan.FromMinutes(1));

        var (exit, output, error) = await _cli.RunAsync("backup");

        Assert.True(exit == 0, error);
        Assert.Contains("backup:    ", output, StringComparison.Ordinal);
        Assert.Contains("warning: the off-volume copy to container cli-backups failed (local backups are intact; the next run retries)", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_cli.BackupDirectory, "database_backup_20250114_103100.sqlite.json")));
        var (statusExit, status, _) = await _cli.RunAsync("status", "--json");
        Assert.Equal(1, statusExit);
        Assert.False(JsonDocument.Parse(status).RootElement.GetProperty("backups").GetProperty("offsite").GetProperty("last_error").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public async Task OffsiteCommands_NotConfigured_ExitWithUsage()
    {
        foreach (var args in new[] { new[] { "list", "--offsite" }, ["restore", "--offsite", "--latest"], ["drill"] })
        {
            var (exit, _, error) = await _cli.RunAsync(args);

            Assert.Equal(64, exit);
            Assert.Contains("off-volume copies are not configured", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RestoreOffsite_WithOnNextStart_IsAUsageError()
    {
        var (exit, _, error) = await _cli.RunAsync("restore", "--offsite", "--on-next-start", "--latest");

        Assert.Equal(64, exit);
        Assert.Contains("--offsite cannot be combined with --on-next-start", error, StringComparison.Ordinal);
    }
}
