using System.Diagnostics;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Logging.Testing;

namespace Emergence.Persistence.Tests.Volumes;

public sealed class VolumeLockTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("emergence-lock-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string LockPath => Path.Combine(_directory, VolumeLock.FileName);

    [Fact]
    public void TryAcquire_WhileHeld_FailsAndNamesTheHolder()
    {
        using var first = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _);

        var second = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out var holder);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.StartsWith($"pid {Environment.ProcessId} on ", holder, StringComparison.Ordinal);
    }

    [Fact]
    public void TryAcquire_AfterRelease_Succeeds()
    {
        VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _)!.Dispose();

        using var again = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _);

        Assert.NotNull(again);
        Assert.True(again.IsHeld);
    }

    [Fact]
    public async Task AcquireAsync_HolderReleasesWhileWaiting_ProceedsAndLogsTheWait()
    {
        var first = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _)!;
        var logger = new FakeLogger();
        _ = Task.Delay(500, TestContext.Current.CancellationToken).ContinueWith(_ => first.Dispose(), TaskScheduler.Default);

        using var second = await VolumeLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(10), logger, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.True(second.IsHeld);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Name == "LockWaiting");
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Name == "LockAcquiredAfterWait");
    }

    [Fact]
    public async Task AcquireAsync_HolderKilledWithSigkill_ProceedsOnceTheKernelReleasesIt()
    {
        // flock(1) holds the same kind of lock from another process; SIGKILL gives it no chance to clean up.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", LockPath, "sleep", "60"]))!;
        await WaitUntilHeldAsync();
        var logger = new FakeLogger();

        var waiting = VolumeLock.AcquireAsync(LockPath, TimeSpan.FromSeconds(20), logger, TimeProvider.System, TestContext.Current.CancellationToken);
        await Task.Delay(400, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);
        holder.Kill(entireProcessTree: true);
        using var acquired = await waiting;

        Assert.True(acquired.IsHeld);
    }

    [Fact]
    public async Task AcquireAsync_NeverReleased_TimesOutNamingTheLock()
    {
        using var first = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _);

        var error = await Assert.ThrowsAsync<VolumeLockTimeoutException>(() =>
            VolumeLock.AcquireAsync(LockPath, TimeSpan.FromMilliseconds(300), new FakeLogger(), TimeProvider.System, TestContext.Current.CancellationToken));

        Assert.Equal(LockPath, error.LockPath);
        Assert.Contains(LockPath, error.Message, StringComparison.Ordinal);
    }

    private async Task WaitUntilHeldAsync()
    {
        for (var i = 0; i < 100; i++)
        {
            var probe = VolumeLock.TryAcquire(LockPath, TimeProvider.System, out _);
            if (probe is null)
            {
                return;
            }

            probe.Dispose();
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail("flock(1) never took the lock");
    }
}
