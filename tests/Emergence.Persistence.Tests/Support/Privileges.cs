namespace Emergence.Persistence.Tests.Support;

/// <summary>Fault tests that mount file systems need root; CI runs as root and must run them.</summary>
public static class Privileges
{
    /// <summary>Skips the test when not root, except under CI=true, where a skip would hide a fault test: fails instead.</summary>
    public static void RequireRoot(string why)
    {
        if (Environment.IsPrivilegedProcess)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"This fault test needs root ({why}); CI runs as root and must not skip it.");
        }

        Assert.Skip($"Needs root to {why}.");
    }
}
