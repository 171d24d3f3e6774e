namespace Emergence.Persistence.Platform;

/// <summary>Reads the real process environment and <c>/proc/self/mountinfo</c>.</summary>
public sealed class SystemProbe : ISystemProbe
{
    /// <summary>The path of the kernel's per-process mount table.</summary>
    public const string MountInfoPath = "/proc/self/mountinfo";

    /// <inheritdoc />
    public string? GetEnvironmentVariable(string name) => Environment.GetEnvironmentVariable(name);

    /// <inheritdoc />
    public string? ReadMountInfo() => File.Exists(MountInfoPath) ? File.ReadAllText(MountInfoPath) : null;
}
