using Emergence.Persistence.Platform;

namespace Emergence.Persistence.Volumes;

/// <summary>
/// Inspects the directory that holds the database: does it exist, can it be written, which mount
/// holds it, how much room is left, and is that the mount Railway announced.
/// </summary>
public sealed class VolumeInspector(ISystemProbe probe, TimeProvider time)
{
    /// <summary>The variable Railway sets, at run time, to the path it mounted the service's volume at.</summary>
    public const string RailwayMountPathVariable = "RAILWAY_VOLUME_MOUNT_PATH";

    /// <summary>
    /// Inspects <paramref name="directory"/>. With <paramref name="create"/>, a missing directory is
    /// created first. Never throws: every failure is reported in the result.
    /// </summary>
    /// <param name="directory">The database directory.</param>
    /// <param name="databasePath">The database file, whose existence is reported.</param>
    /// <param name="create">Whether to create the directory when it is missing.</param>
    public VolumeStatus Inspect(string directory, string databasePath, bool create)
    {
        var fullPath = Path.GetFullPath(directory);
        string? error = null;
        if (!Directory.Exists(fullPath) && create)
        {
            try
            {
                Directory.CreateDirectory(fullPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error = $"cannot create the directory: {ex.Message}";
            }
        }

        var exists = Directory.Exists(fullPath);
        if (!exists)
        {
            error ??= "the directory does not exist";
        }

        var writable = exists && ProbeWritable(fullPath, out error);
        var resolved = exists ? ResolveLinks(fullPath) : fullPath;
        // The seam may fail (an unreadable /proc, a broken environment): the mount is then unknown,
        // which reports as not mounted; an inspection never throws.
        MountEntry? mount;
        string? expected;
        try
        {
            mount = MountTable.Parse(probe.ReadMountInfo()).FindMountFor(resolved);
            expected = probe.GetEnvironmentVariable(RailwayMountPathVariable);
        }
        catch (Exception ex)
        {
            mount = null;
            expected = null;
            error ??= $"cannot read the mount table: {ex.Message}";
        }

        var (available, total) = exists ? ReadSpace(fullPath) : (0L, 0L);
        return new VolumeStatus
        {
            Mounted = mount is not null && !mount.IsContainerLayer,
            Path = fullPath,
            Writable = writable,
            SizeAvailable = available,
            SizeTotal = total,
            DatabaseExists = File.Exists(databasePath),
            LastCheck = time.GetUtcNow(),
            Filesystem = mount?.FileSystem,
            MountPoint = mount?.MountPoint,
            ExpectedMountPath = string.IsNullOrWhiteSpace(expected) ? null : expected,
            ReadOnly = mount?.ReadOnly ?? false,
            Error = writable ? null : error,
            Diagnostics = writable ? null : Diagnose(fullPath),
        };
    }

    /// <summary>Returns the bytes available to this process and the total size of the file system holding a path.</summary>
    public static (long Available, long Total) ReadSpace(string path)
    {
        try
        {
            var drive = new DriveInfo(path);
            return (drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (0, 0);
        }
    }

    /// <summary>Whether a file can be created in <paramref name="directory"/> (a probe file, written, synced and deleted); <paramref name="error"/> says why not.</summary>
    public static bool CanWrite(string directory, out string? error) => ProbeWritable(directory, out error);

    private static bool ProbeWritable(string directory, out string? error)
    {
        var probePath = Path.Combine(directory, $".emergence-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(probePath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                stream.Write("probe"u8);
                stream.Flush(flushToDisk: true);
            }

            File.Delete(probePath);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"cannot write a probe file: {ex.Message}";
            TryDelete(probePath);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The probe never got written; nothing to clean up.
        }
    }

    private static string ResolveLinks(string path)
    {
        // Follow symlinks component by component, so a data directory that links onto a volume is judged by the volume.
        var root = Path.GetPathRoot(path) ?? "/";
        var current = root;
        foreach (var part in path[root.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is not null)
                {
                    current = target.FullName;
                }
            }
        }

        return current;
    }

    private static VolumeDiagnostics Diagnose(string directory)
    {
        uint uid = 0, gid = 0;
        if (OperatingSystem.IsLinux())
        {
            uid = NativeMethods.GetEffectiveUserId();
            gid = NativeMethods.GetEffectiveGroupId();
        }

        var existing = directory;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            existing = parent;
        }

        var owner = NativeMethods.GetOwner(existing);
        string? mode = null;
        if (!OperatingSystem.IsWindows() && Directory.Exists(existing))
        {
            mode = Convert.ToString((int)File.GetUnixFileMode(existing), 8);
        }

        return new VolumeDiagnostics(uid, gid, owner?.Uid, owner?.Gid, mode is null ? null : $"{existing} {mode}");
    }
}
