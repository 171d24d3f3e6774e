namespace Emergence.Persistence.Volumes;

/// <summary>One line of <c>/proc/self/mountinfo</c>: where a file system is mounted and what it is.</summary>
/// <param name="MountPoint">The absolute path the file system is mounted at.</param>
/// <param name="FileSystem">The file-system type, e.g. <c>ext4</c>, <c>overlay</c>, <c>tmpfs</c>.</param>
/// <param name="Source">The mount source, e.g. <c>/dev/vda</c>.</param>
/// <param name="ReadOnly">Whether the mount or the file system is mounted read-only.</param>
public sealed record MountEntry(string MountPoint, string FileSystem, string Source, bool ReadOnly)
{
    /// <summary>
    /// Whether this mount is the container's own writable layer (or the root file system), which is
    /// discarded on redeploy: data written there is not on a persistent volume.
    /// </summary>
    public bool IsContainerLayer => MountPoint == "/" || FileSystem == "overlay";
}
