using System.Globalization;

namespace Emergence.Bench;

/// <summary>
/// Bytes written to the block device that holds a directory, from <c>/proc/diskstats</c> (sectors of
/// 512 bytes). The device is the one <c>/proc/self/mountinfo</c> names for the directory's mount; a
/// mount with no block device of its own (overlay, tmpfs) has no count.
/// </summary>
public sealed class DiskWrites
{
    private readonly string? _device;

    public DiskWrites(string directory)
    {
        var full = Path.GetFullPath(directory);
        var mount = File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => Covers(fields[4], full))
            .MaxBy(fields => fields[4].Length);
        _device = mount?[2];
        if (_device is not null && Read() is null)
        {
            _device = null;
        }
    }

    /// <summary>Bytes written to the device since boot, or <see langword="null"/> without a count.</summary>
    public long? Read()
    {
        if (_device is null)
        {
            return null;
        }

        foreach (var line in File.ReadLines("/proc/diskstats"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if ($"{fields[0]}:{fields[1]}" == _device)
            {
                return long.Parse(fields[9], CultureInfo.InvariantCulture) * 512;
            }
        }

        return null;
    }

    private static bool Covers(string mountPoint, string path) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
}
