using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Tests.Platform;

public sealed class BackgroundPriorityTests
{
    private static int NiceOfThisThread() => NativeMethods.GetPriority(NativeMethods.PrioProcess, (uint)NativeMethods.GetThreadId());

    [Fact]
    public async Task Run_LowersTheWorkersPriority_AndLeavesTheCallersAlone()
    {
        var before = NiceOfThisThread();

        var worker = await BackgroundPriority.Run(NiceOfThisThread, "test");

        Assert.True(worker >= BackgroundPriority.Nice, $"the worker ran at nice {worker}");
        Assert.Equal(before, NiceOfThisThread());
    }

    [Fact]
    public async Task Run_PassesTheWorksExceptionToTheTask()
    {
        var error = await Assert.ThrowsAsync<IOException>(() => BackgroundPriority.Run(() => throw new IOException("disk gone"), "test"));

        Assert.Equal("disk gone", error.Message);
    }
}
