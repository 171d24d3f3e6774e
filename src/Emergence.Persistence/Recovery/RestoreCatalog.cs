using Emergence.Persistence.Replication;

namespace Emergence.Persistence.Recovery;

/// <summary>What a restore source holds: its backups, those worth restoring, and the history after them.</summary>
/// <param name="All">Every backup, newest first, for a restore by name.</param>
/// <param name="Candidates">The backups a restore tries, newest first (verified on the volume, complete in the container).</param>
/// <param name="Histories">Each generation's history, oldest first; empty when the target replays nothing.</param>
/// <param name="Demoted">Candidates tried only after every other plan, or <see langword="null"/> when none are.</param>
internal sealed record RestoreCatalog<TBackup>(IReadOnlyList<TBackup> All, IReadOnlyList<TBackup> Candidates, IReadOnlyList<History> Histories, Func<TBackup, bool>? Demoted)
{
    /// <summary>
    /// When <see cref="Histories"/> were read in part (<see cref="History.Partial"/>), the same catalog with every record
    /// read, for when the best plan of the part read fails: the run at its finest then gives the plans along other
    /// files; <see langword="null"/> when every record was read.
    /// </summary>
    public Func<RestoreCatalog<TBackup>>? Complete { get; init; }
}
