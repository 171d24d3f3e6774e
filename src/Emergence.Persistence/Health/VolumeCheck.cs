using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Health;

/// <summary>The volume: mounted where Railway says, writable, not replaced by the fallback, with room for the next backup.</summary>
public static class VolumeCheck
{
    /// <summary>
    /// Judges the configured volume (always the configured one, also while the app runs from the fallback
    /// directory: an operator needs to see what is wrong with the volume, not that /tmp is fine).
    /// </summary>
    public static Checked<VolumeStatus> Check(VolumeStatus volume, DatabaseLocation location, bool requireVolume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(location);
        var findings = VolumeRequirement.Problems(volume, requireVolume, notWritableIsAProblem: !location.IsFallback)
            .Select(HealthFinding.Unhealthy)
            .ToList();
        if (location.IsFallback)
        {
            var sentence = $"The database is in the fallback directory {location.DatabaseDirectory} because {Path.GetDirectoryName(location.ConfiguredDatabasePath)} cannot be used: {location.FallbackReason}.";
            findings.Add(new HealthFinding(requireVolume ? HealthStatus.Unhealthy : HealthStatus.Degraded, sentence));
        }

        return new Checked<VolumeStatus>(volume, findings);
    }

    /// <summary>Whether the database is really on the volume: not the fallback, and the volume mounted where expected.</summary>
    public static bool IsOnVolume(VolumeStatus volume, DatabaseLocation location) =>
        !location.IsFallback && volume.Mounted && volume.MatchesExpectedMount;

    /// <summary>Low space: the volume has less room than the next backup of a database this size needs.</summary>
    public static IReadOnlyList<HealthFinding> Space(VolumeStatus volume, DatabaseReport database)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(database);
        var needed = BackupSpace.Required(database.Size);
        return database.Exists && volume.SizeAvailable > 0 && volume.SizeAvailable < needed
            ? [HealthFinding.Degraded($"Only {volume.SizeAvailable} bytes are free on the volume; the next backup needs about {needed}.")]
            : [];
    }
}
