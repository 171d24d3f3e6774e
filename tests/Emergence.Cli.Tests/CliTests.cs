using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Cli.Tests;

/// <summary>The command line itself: usage and its errors, settings and global options, backup names, the help and the operating guide, and the binary run as a process.</summary>
public sealed class CliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("restore", "../../etc/passwd")]
    [InlineData("restore", "/etc/passwd", "--force")]
    [InlineData("verify", "../backups/database_backup_20250114_103000.sqlite")]
    public async Task NamesThatAreNotBackupNames_ExitSixtyFourAndChangeNothing(params string[] args)
    {
        await _cli.RunAsync("startup");
        var before = Sqlite3.Query(_cli.DatabasePath, "SELECT value FROM app_metadata;");

        var (exit, _, error) = await _cli.RunAsync(args);

        Assert.Equal(64, exit);
        Assert.Contains("is not a backup name", error, StringComparison.Ordinal);
        Assert.Equal(before, Sqlite3.Query(_cli.DatabasePath, "SELECT value FROM app_metadata;"));
        Assert.False(Directory.Exists(Path.Combine(_cli.BackupDirectory, "quarantine")));
    }

    /// <summary>The commands <c>--help</c> lists, in its order.</summary>
    private async Task<List<string>> HelpCommandsAsync()
    {
        var (_, help, _) = await _cli.RunAsync("--help");
        return help[help.IndexOf("Commands:", StringComparison.Ordinal)..]
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1)
            .Select(line => line.Split(' ')[0])
            .ToList();
    }

    [Fact]
    public async Task NoCommand_NamesEveryCommandTheHelpLists()
    {
        var listed = await HelpCommandsAsync();

        var (exit, _, error) = await _cli.RunAsync();

        Assert.Equal(64, exit);
        Assert.Contains("replicate", listed);
        Assert.Contains($"a command is required: {string.Join(", ", listed[..^1])} or {listed[^1]}.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperatingGuide_HasARowForEveryCommand()
    {
        var listed = await HelpCommandsAsync();

        var guide = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "operating.md"));

        Assert.All(listed, command => Assert.Contains($"\n| `{command}", guide, StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Functions.sln not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData(new string[0], "a command is required")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "restore" }, "Give exactly one of a backup NAME, --latest or --to TIME.")]
    [InlineData(new[] { "restore", "database_backup_20250114_103000.sqlite", "--latest" }, "Give exactly one of a backup NAME, --latest or --to TIME.")]
    [InlineData(new[] { "verify", "database_backup_20250114_103000.sqlite", "--all" }, "Give a backup NAME or --all, not both.")]
    [InlineData(new[] { "status", "--bogus" }, "--bogus")]
    [InlineData(new[] { "list", "--database" }, "--database")]
    public async Task UsageErrors_ExitSixtyFourSayingWhatWasExpected(string[] args, string expected)
    {
        var (exit, output, error) = await _cli.RunAsync(args);

        Assert.Equal(64, exit);
        Assert.Empty(output);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(_cli.DatabasePath)));
    }

    [Theory]
    [InlineData("Persistence__KeepBackups", "-1", "Setting Persistence__KeepBackups='-1' is invalid: expected a whole number from 1 to 1000.")]
    [InlineData("BACKUP_SCHEDULE", "hourly", "Setting BACKUP_SCHEDULE='hourly' is invalid: expected a 6-field NCRONTAB expression")]
    [InlineData("Persistence__RequireVolume", "maybe", "Setting Persistence__RequireVolume='maybe' is invalid: expected true or false.")]
    [InlineData("BACKUP_SCHEDULE", "99999999999 0 * * * *", "Setting BACKUP_SCHEDULE='99999999999 0 * * * *' is invalid: expected a 6-field NCRONTAB expression")]
    [InlineData("BACKUP_SCHEDULE", "0 0 0 30 2 *", "Setting BACKUP_SCHEDULE='0 0 0 30 2 *' is invalid: the schedule never fires")]
    [InlineData("DRILL_SCHEDULE", "0 0 0 29 2 *", "Setting DRILL_SCHEDULE='0 0 0 29 2 *' is invalid: the schedule can go")]
    [InlineData("Persistence__KeepBackups", "", "Setting Persistence__KeepBackups='' is invalid: it is set but blank")]
    [InlineData("Persistence__DatabasePath", "  ", "Setting Persistence__DatabasePath='  ' is invalid: it is set but blank")]
    [InlineData("Persistence__KeepDaily", "-2", "Setting Persistence__KeepDaily='-2' is invalid: expected a whole number from 0 to 1000.")]
    public async Task BadSetting_ExitsSixtyFourWithOneLineNamingIt(string setting, string value, string expected)
    {
        _cli.Settings[setting] = value;

        var (exit, _, error) = await _cli.RunAsync("status");

        Assert.Equal(64, exit);
        Assert.StartsWith("emergence-db: " + expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task DatabaseOption_NamingADirectory_IsReportedAsTheOption()
    {
        var (exit, _, error) = await _cli.RunAsync("status", "--database", _cli.Root);

        Assert.Equal(64, exit);
        Assert.StartsWith($"emergence-db: Option --database='{_cli.Root}' is invalid: expected the path of a database file, not a directory.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GlobalOptions_DatabaseAndBackupDir_OverrideTheSettings()
    {
        var database = Path.Combine(_cli.Root, "elsewhere", "app.db");
        var backups = Path.Combine(_cli.Root, "snapshots");

        var (exit, _, error) = await _cli.RunAsync("startup", "--database", database, "--backup-dir", backups);

        Assert.True(exit == 0, error);
        Assert.True(File.Exists(database));
        Assert.Single(Directory.GetFiles(backups, "app_backup_*.db"));
    }

    [Fact]
    public void Process_StartupThenStatus_WorksAsARealCommand()
    {
        var startup = _cli.RunProcess("startup");
        var status = _cli.RunProcess("status", "--json");

        Assert.True(startup.Exit == 0, startup.Err);
        Assert.Equal(0, status.Exit);
        Assert.Equal("healthy", JsonDocument.Parse(status.Out).RootElement.GetProperty("status").GetString());
    }
}
