using System.Text.Json;
using Emergence.Cli.Tests.Support;

namespace Emergence.Cli.Tests.Commands;

/// <summary><c>backup</c>, <c>list</c> and <c>verify</c>: what each prints, and how each reports a missing database or a damaged backup.</summary>
public sealed class BackupCommandsTests : IDisposable
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
}
