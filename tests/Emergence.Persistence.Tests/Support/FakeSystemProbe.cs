using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Tests.Support;

/// <summary>An environment the test sets, and the real mount table unless the test replaces it.</summary>
public sealed class FakeSystemProbe : ISystemProbe
{
    public Dictionary<string, string> Environment { get; } = [];

    public string? MountInfo { get; set; }

    public string? GetEnvironmentVariable(string name) => Environment.GetValueOrDefault(name);

    public string? ReadMountInfo() => MountInfo ?? new SystemProbe().ReadMountInfo();
}
