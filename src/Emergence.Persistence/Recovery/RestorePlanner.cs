using Emergence.Persistence.Backups;
using Emergence.Persistence.Records;
using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>One backup a restore tries, and for a point the plan that brings it forward (<see langword="null"/>: restored as it is).</summary>
internal sealed record RestoreCandidate<TBackup>(TBackup Backup, string Name, BackupManifest? Manifest, Timeline.Plan<TBackup>? Plan);

/// <summary>
/// Turns a target into the candidates a restore tries, best first: the backup named; the source's restorable
/// backups newest first; or, for a point, the plans <see cref="Timeline.PlansFor"/> computes (a base backup and
/// the history after its log point, then older bases, then each base's own state).
/// </summary>
internal static class RestorePlanner
{
    /// <summary>The candidates for <paramref name="target"/> from what <paramref name="source"/> holds.</summary>
    /// <exception cref="RestoreFailedException">There is nothing to try: the name is unknown, or no backup or provable point fits.</exception>
    public static IReadOnlyList<RestoreCandidate<TBackup>> Plan<TBackup>(RestoreSource<TBackup> source, RestoreCatalog<TBackup> catalog, RestoreTarget target)
    {
        if (target.BackupName is { } name)
        {
            var named = catalog.All.FirstOrDefault(b => source.NameOf(b) == name)
                ?? throw new RestoreFailedException($"There is no backup named {name} in {source.Where}.");
            return [As(source, named)];
        }

        IReadOnlyList<RestoreCandidate<TBackup>> candidates = target.IsPoint
            ? [.. Timeline.PlansFor(catalog.Candidates, b => source.ManifestOf(b)!, source.TakenAt, catalog.Histories, target.Time, catalog.Demoted)
                .Select(plan => new RestoreCandidate<TBackup>(plan.Backup, source.NameOf(plan.Backup), plan.Manifest, plan))]
            : [.. catalog.Candidates.Select(b => As(source, b))];
        if (candidates.Count == 0)
        {
            throw new RestoreFailedException(target.Time is { } t
                ? $"There is no {source.Restorable} backup or provable point at or before {UtcMillisecondsConverter.Format(t)} in {source.Where}."
                : $"There is no {source.Restorable} backup in {source.Where} to restore.");
        }

        return candidates;
    }

    private static RestoreCandidate<TBackup> As<TBackup>(RestoreSource<TBackup> source, TBackup backup) =>
        new(backup, source.NameOf(backup), source.ManifestOf(backup), null);
}
