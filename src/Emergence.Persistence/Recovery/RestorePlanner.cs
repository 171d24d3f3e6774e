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
    /// <summary>
    /// The candidates for <paramref name="target"/>, best first, as a restore tries them: <see cref="Plan"/>'s, or, when
    /// the catalog's histories were read in part (coarsest first, <see cref="RestoreCatalog{TBackup}.Complete"/>), the
    /// best plan of that reading and, only once it has failed, the plans of the history read whole, less that one. A
    /// damaged level file on the coarse path then costs one failed try, and the plans along finer files follow as they
    /// would have had every record been read.
    /// </summary>
    /// <exception cref="RestoreFailedException">There is nothing to try: the name is unknown, or no backup or provable point fits.</exception>
    public static IEnumerable<RestoreCandidate<TBackup>> Candidates<TBackup>(RestoreSource<TBackup> source, RestoreCatalog<TBackup> catalog, RestoreTarget target)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var planned = Plan(source, catalog, target);
        return catalog.Complete is { } complete ? BestThenComplete(planned[0], () => Plan(source, complete(), target)) : planned;
    }

    private static IEnumerable<RestoreCandidate<TBackup>> BestThenComplete<TBackup>(RestoreCandidate<TBackup> best, Func<IReadOnlyList<RestoreCandidate<TBackup>>> complete)
    {
        yield return best;
        foreach (var candidate in complete().Where(c => !SamePlan(c, best)))
        {
            yield return candidate;
        }
    }

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

    /// <summary>Whether two candidates restore the same backup along the same files from the same point.</summary>
    private static bool SamePlan<TBackup>(RestoreCandidate<TBackup> a, RestoreCandidate<TBackup> b) =>
        a.Name == b.Name && a.Plan?.Generation?.Id == b.Plan?.Generation?.Id && a.Plan?.Skip == b.Plan?.Skip
        && (a.Plan?.Segments ?? []).Select(s => s.Path).SequenceEqual((b.Plan?.Segments ?? []).Select(s => s.Path), StringComparer.Ordinal);

    private static RestoreCandidate<TBackup> As<TBackup>(RestoreSource<TBackup> source, TBackup backup) =>
        new(backup, source.NameOf(backup), source.ManifestOf(backup), null);
}
