using System.Collections.Concurrent;
using System.Globalization;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// A Railway-like volume: an ext4 file system in an image file under the run's temp directory,
/// attached to one loop device for its whole life. Every container mounts that same device, so two
/// containers on the volume share one file system (as two mounts of one disk do), never two
/// competing ones. Nothing is mounted outside the containers' own namespaces.
/// </summary>
public sealed class LoopVolume : IDisposable
{
    private static readonly ConcurrentDictionary<string, byte> Attached = new(StringComparer.Ordinal);

    private LoopVolume(string image, string device)
    {
        Image = image;
        Device = device;
    }

    public string Image { get; }

    /// <summary>The loop device, e.g. /dev/loop3.</summary>
    public string Device { get; }

    /// <summary>Makes an empty ext4 volume of the given size (a sparse file) and attaches it.</summary>
    public static LoopVolume Create(Rehearsal rehearsal, int sizeMiB)
    {
        var image = Path.Combine(rehearsal.NewDirectory("volume"), "volume.ext4");
        using (var file = File.Create(image))
        {
            file.SetLength(sizeMiB * 1024L * 1024L);
        }

        Commands.Check("mkfs.ext4", "-q", "-F", "-L", "rehearsal", image);
        var device = Commands.Check("losetup", "--find", "--show", image).Trim();
        Attached[device] = 0;
        return new LoopVolume(image, device);
    }

    /// <summary>Detaches the device (the kernel finishes once the last container's mount is gone).</summary>
    public void Dispose() => Detach(Device);

    internal static void DetachAll()
    {
        foreach (var device in Attached.Keys)
        {
            Detach(device);
        }
    }

    private static void Detach(string device)
    {
        if (Attached.TryRemove(device, out _))
        {
            Shell.Run("losetup", "--detach", device);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Device} ({Image})");
}
