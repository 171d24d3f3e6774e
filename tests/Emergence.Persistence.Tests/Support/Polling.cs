namespace Emergence.Persistence.Tests.Support;

/// <summary>Waiting for a condition by polling it, never by a fixed sleep.</summary>
internal static class Polling
{
    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds; fails naming <paramref name="what"/> once <paramref name="bound"/> passes.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan bound)
    {
        var until = DateTime.UtcNow + bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
