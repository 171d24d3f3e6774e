using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Tests.Platform;

/// <summary>Background work runs at a lower priority on a thread of its own, and its failure reaches the caller.</summary>
public sealed class BackgroundThreadTests
{
    [Fact]
    public async Task TheWork_RunsOnAThreadOfItsOwn_AtTheLowerPriority_AndTheCallersPriorityIsUnchanged()
    {
        var before = BackgroundThread.CurrentNiceness();
        int? inside = null;
        var thread = -1;
        await BackgroundThread.Run("test", () =>
        {
            inside = BackgroundThread.CurrentNiceness();
            thread = Environment.CurrentManagedThreadId;
        }).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.NotNull(before);
        Assert.True(inside >= BackgroundThread.Niceness, $"niceness {inside} inside the work, {before} outside");
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.Equal(before, BackgroundThread.CurrentNiceness());
    }

    [Fact]
    public async Task AFailure_FaultsTheTask_WithTheWorksOwnException()
    {
        var run = BackgroundThread.Run("test", () => throw new IOException("the disk is full"));

        var thrown = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));

        Assert.Equal("the disk is full", thrown.Message);
    }
}
