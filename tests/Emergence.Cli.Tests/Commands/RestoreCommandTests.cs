using System.Text.Json;
using Emergence.Cli.Tests.Support;
using Emergence.Persistence.Volumes;

namespace Emergence.Cli.Tests.Commands;

/// <summary><c>restore</c>: refused while the app holds the lock or the database is healthy, forced now, or requested for the next start.</summary>
public sealed class RestoreCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

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
}
