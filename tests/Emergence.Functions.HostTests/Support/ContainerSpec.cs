namespace Emergence.Functions.HostTests.Support;

/// <summary>How one container of the service is started: its volume and the variables Railway would give it.</summary>
public sealed record ContainerSpec
{
    /// <summary>The service's volume, or null for a container started without one.</summary>
    public LoopVolume? Volume { get; init; }

    /// <summary>Where Railway mounts the volume (and what it puts in <c>RAILWAY_VOLUME_MOUNT_PATH</c>).</summary>
    public string MountPath { get; init; } = "/app/data";

    /// <summary>Directories that exist on the container's own layer (e.g. /app/data without a volume on it).</summary>
    public IReadOnlyList<string> LayerDirectories { get; init; } = [];

    /// <summary>Directories that exist but cannot be written (an empty read-only file system on each).</summary>
    public IReadOnlyList<string> ReadOnlyDirectories { get; init; } = [];

    /// <summary>Service variables on top of the image's ENV; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> Variables { get; init; } = new Dictionary<string, string?>();
}
