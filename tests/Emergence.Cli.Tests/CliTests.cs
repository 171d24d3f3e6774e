using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Tests.Support;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private async Task<JsonElement> BackupAsync()
    {
        _cli.Time.Advance(TimeSpan.FromMinutes(1));
        var (exit, output, error) = await _cli.RunAsync("backup", "--json");
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }

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
    public async Task Backup_Json_PrintsAManifestWhoseChecksumMatchesTheFile()
    {
        await _cli.RunAsync("startup");

        var manifest = await BackupAsync();

        Assert.Equal("manual", manifest.GetProperty("reason").GetString());
        var path = manifest.GetProperty("backup_path").GetString()!;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), manifest.GetProperty("checksum").GetString());
    }

    [Fact]
    public async Task Backup_NoDatabase_ExitsOneWithTheReasonOnStderr()
    {
        var (exit, output, error) = await _cli.RunAsync("backup");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.DatabasePath));
    }

    [Fact]
    public async Task List_Json_ListsNewestFirstWithSizeAgeAndChecksum()
    {
        await _cli.RunAsync("startup");
        var second = await BackupAsync();

        var (exit, output, _) = await _cli.RunAsync("list", "--json");

        Assert.Equal(0, exit);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(second.GetProperty("filename").GetString(), rows[0].GetProperty("name").GetString());
        Assert.Equal(0, rows[0].GetProperty("age_seconds").GetInt64());
        Assert.Equal(60, rows[1].GetProperty("age_seconds").GetInt64());
        Assert.All(rows, r => Assert.Equal(64, r.GetProperty("checksum").GetString()!.Length));
    }

    [Fact]
    public async Task ListAndVerify_BackupStampedAnHourInTheFuture_OrderItAfterTheOthersAsRotationDoes()
    {
        await _cli.RunAsync("startup");
        using (var skewed = new CliHarness())
        {
            // Another process on the same volume whose clock runs an hour ahead.
            skewed.Settings["Persistence__DatabasePath"] = _cli.DatabasePath;
            skewed.Time.Advance(TimeSpan.FromHours(1));
            Assert.Equal(0, (await skewed.RunAsync("backup")).Exit);
        }

        _cli.Time.Advance(TimeSpan.FromMinutes(1));
        var (listExit, listed, _) = await _cli.RunAsync("list", "--json");
        var (verifyExit, verified, _) = await _cli.RunAsync("verify", "--json");

        Assert.Equal(0, listExit);
        var names = JsonDocument.Parse(listed).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["database_backup_20250114_103000.sqlite", "database_backup_20250114_113000.sqlite"], names);
        Assert.Equal(0, verifyExit);
        var newest = Assert.Single(JsonDocument.Parse(verified).RootElement.EnumerateArray());
        Assert.Equal("database_backup_20250114_103000.sqlite", newest.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Verify_CorruptedBackup_ExitsOneAndNamesIt()
    {
        await _cli.RunAsync("startup");
        var manifest = await BackupAsync();
        var path = manifest.GetProperty("backup_path").GetString()!;
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(path, bytes);

        var (exit, output, _) = await _cli.RunAsync("verify", "--all");

        Assert.Equal(1, exit);
        Assert.Contains($"FAILED  {manifest.GetProperty("filename").GetString()}", output, StringComparison.Ordinal);
        Assert.Contains("ok      database_backup_20250114_103000.sqlite", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_Full_RunsIntegrityCheck()
    {
        await _cli.RunAsync("startup");

        var (exit, output, _) = await _cli.RunAsync("verify", "--full", "--json");

        Assert.Equal(0, exit);
        var result = Assert.Single(JsonDocument.Parse(output).RootElement.EnumerateArray());
        Assert.Equal("integrity_check", result.GetProperty("check").GetString());
        Assert.True(result.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Restore_WhileTheAppHoldsTheLock_RefusesAtOnce()
    {
        await _cli.RunAsync("startup");
        using var app = VolumeLock.TryAcquire(Path.Combine(Path.GetDirectoryName(_cli.DatabasePath)!, VolumeLock.FileName), TimeProvider.System, out _);

        var (exit, _, error) = await _cli.RunAsync("restore", "--latest", "--force");

        Assert.Equal(1, exit);
        Assert.Contains("is held by pid", error, StringComparison.Ordinal);
        Assert.Contains("--on-next-start", error, StringComparison.Ordinal);
        Assert.DoesNotContain("[LockWaiting]", error, StringComparison.Ordinal); // it tried the lock once instead of waiting for it
    }

    [Fact]
    public async Task Restore_LatestWithForce_RestoresAndQuarantines()
    {
        await _cli.RunAsync("startup");
        File.Delete(_cli.DatabasePath + "-wal");
        File.Delete(_cli.DatabasePath + "-shm");

        var (exit, output, error) = await _cli.RunAsync("restore", "--latest", "--force");

        Assert.True(exit == 0, error);
        Assert.Contains("restored:    database_backup_20250114_103000.sqlite", output, StringComparison.Ordinal);
        Assert.Contains("quarantine", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_HealthyDatabaseWithoutForce_ExitsOne()
    {
        await _cli.RunAsync("startup");

        var (exit, _, error) = await _cli.RunAsync("restore", "--latest");

        Assert.Equal(1, exit);
        Assert.Contains("--force", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreOnNextStart_WritesARequestThatTheNextStartupPerforms()
    {
        await _cli.RunAsync("startup");

        var (exit, output, _) = await _cli.RunAsync("restore", "--on-next-start", "--latest", "--json");
        var request = Path.Combine(Path.GetDirectoryName(_cli.DatabasePath)!, ".restore-request");
        var written = File.Exists(request);
        var (startupExit, startupOutput, _) = await _cli.RunAsync("startup");

        Assert.Equal(0, exit);
        Assert.Equal("database_backup_20250114_103000.sqlite", JsonDocument.Parse(output).RootElement.GetProperty("backup").GetString());
        Assert.True(written);
        Assert.Equal(0, startupExit);
        Assert.Contains("restored:  database_backup_20250114_103000.sqlite (requested)", startupOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(request));
    }

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
    public async Task Status_MistypedDatabase_CreatesNoDirectory()
    {
        var mistyped = Path.Combine(_cli.Root, "dtaa", "nested", "database.sqlite");

        var (exit, _, _) = await _cli.RunAsync("status", "--database", mistyped);

        Assert.Equal(2, exit);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "dtaa")));
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
