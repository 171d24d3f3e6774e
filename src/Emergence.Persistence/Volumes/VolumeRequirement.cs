namespace Emergence.Persistence.Volumes;

/// <summary>
/// What makes a database directory unusable for data, in the sentences health reports and startup logs
/// while it waits: not on the mount Railway announced, not a mounted volume while one is required, not writable.
/// </summary>
public static class VolumeRequirement
{
    /// <summary>One sentence per way <paramref name="volume"/> fails the requirement; empty when it meets it.</summary>
    /// <param name="volume">The inspection of the configured database directory.</param>
    /// <param name="requireVolume">Whether a mounted volume is required (<c>Persistence__RequireVolume</c>).</param>
    /// <param name="notWritableIsAProblem">Whether a directory that cannot be written is reported (not while the fallback covers it).</param>
    public static IReadOnlyList<string> Problems(VolumeStatus volume, bool requireVolume, bool notWritableIsAProblem = true)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var problems = new List<string>();
        if (!volume.MatchesExpectedMount)
        {
            problems.Add($"Railway mounted the volume at {volume.ExpectedMountPath}, but the database directory {volume.Path} is on {volume.MountPoint ?? "an unknown mount"}: the database is not on the volume.");
        }
        else if (requireVolume && !volume.Mounted)
        {
            problems.Add($"The database directory {volume.Path} is not a mounted volume (it is on {volume.Filesystem ?? "an unknown file system"} at {volume.MountPoint ?? "?"}, the container's own layer): data written there is lost on redeploy.");
        }

        if (!volume.Writable && notWritableIsAProblem)
        {
            problems.Add($"The database directory {volume.Path} is not writable{(volume.ReadOnly ? " (the file system is mounted read-only)" : "")}: {volume.Error ?? "unknown error"}.");
        }

        return problems;
    }
}
