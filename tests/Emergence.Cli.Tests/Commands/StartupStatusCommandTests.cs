using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary><c>startup</c> and <c>status</c>: a fresh start, and the exit code and report for a missing, stale or mistyped database.</summary>
public sealed class StartupStatusCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Startup_FreshDirectory_CreatesMigratesBacksUpAndReportsHealthy()
    {
        var (exit, output, _) = await _cli.RunAsync("startup");

        Assert.Equal(0, exit);
        Assert.Contains("created the database; version 0 -> 1", output, StringComparison.Ordinal);
        Assert.Contains("status:    healthy", output, StringComparison.Ordinal);
        Assert.Equal("1", Sqlite3.Query(_cli.DatabasePath, "PRAGMA user_version;"));
    }

    [Fact]
    public async Task Status_MissingDatabase_ExitsTwoAndNamesIt()
    {
        var (exit, output, _) = await _cli.RunAsync("status", "--json");

        Assert.Equal(2, exit);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal("unhealthy", report.GetProperty("status").GetString());
        Assert.Contains(report.GetProperty("problems").EnumerateArray(), p => p.GetString() == $"The database file {_cli.DatabasePath} does not exist.");
        Assert.False(File.Exists(_cli.DatabasePath));
    }

    [Fact]
    public async Task Status_StaleBackup_ExitsOneForDegraded()
    {
        await _cli.RunAsync("startup");
        _cli.Time.Advance(TimeSpan.FromHours(3));

        var (exit, output, _) = await _cli.RunAsync("status");

        Assert.Equal(1, exit);
        Assert.Contains("status:    degraded", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_MistypedDatabase_CreatesNoDirectory()
    {
        var mistyped = Path.Combine(_cli.Root, "dtaa", "nested", "database.sqlite");

        var (exit, _, _) = await _cli.RunAsync("status", "--database", mistyped);

        Assert.Equal(2, exit);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "dtaa")));
    }
}
