using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Tests.Support;

/// <summary>An environment the test sets, and the real mount table unless the test replaces it.</summary>
public sealed class FakeSystemProbe : ISystemProbe
{
    public Dictionary<string, string> Environment { get; } = [];

    public string? MountInfo { get; set; }

    /// <summary>When set, reading the mount table throws it: a seam that fails.</summary>
    public Exception? MountInfoFailure { get; set; }

    public string? GetEnvironmentVariable(string name) => Environment.GetValueOrDefault(name);

    public string? ReadMountInfo() => MountInfoFailure is { } failure ? throw failure : MountInfo ?? new SystemProbe().ReadMountInfo();
}
