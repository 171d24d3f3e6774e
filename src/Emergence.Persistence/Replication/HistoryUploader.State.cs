using Emergence.Persistence.Database;
using Emergence.Persistence.Logging;

namespace Emergence.Persistence.Replication;

/// <summary>What the uploader knows of a container between passes, how it checks that the container still holds it, and how it lists that again.</summary>
public sealed partial class HistoryUploader
{
    /// <summary>
    /// How often the uploader checks, with one request, that the object it wrote last is still in a target: a deleted
    /// container or a lost snapshot is noticed within this long and what is missing uploaded again, while an idle
    /// database costs about <c>3600 / 360 = 10</c> requests an hour per target.
    /// </summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMinutes(6);

    /// <summary>
    /// Every <see cref="ProbeInterval"/>, reads the head of the object the state says was written last; <see langword="false"/>
    /// when it has gone (the state is then listed again, and what is missing uploaded again).
    /// </summary>
    private async Task<bool> StillThereAsync(DatabaseLocation location, OffsiteHistory remote, State state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (state.Probe is not { } probe || state.ProbedAt is { } probed && now - probed < ProbeInterval)
        {
            return true;
        }

        state.ProbedAt = now;
        if (await remote.Store.Objects.GetAsync(probe, cancellationToken).ConfigureAwait(false) is not null)
        {
            return true;
        }

        PersistenceLog.OffsiteObjectMissing(logger, probe, remote.Store.Container, location.DatabasePath);
        return false;
    }

    /// <summary>How many segments from the first follow each other by number with a readable record.</summary>
    private static int UnbrokenRun(IReadOnlyList<HistoryFile> segments)
    {
        var run = 0;
        while (run < segments.Count && segments[run].Manifest is not null && segments[run].Sequence == segments[0].Sequence + run)
        {
            run++;
        }

        return run;
    }

    /// <summary>What the container holds, as far as this uploader knows: kept in memory between passes, listed again after a failure.</summary>
    private sealed class State
    {
        /// <summary>Per generation, the highest segment number in the container.</summary>
        public Dictionary<string, long> Uploaded { get; } = new(StringComparer.Ordinal);

        /// <summary>The level files in the container, by object name.</summary>
        public HashSet<string> Levels { get; } = new(StringComparer.Ordinal);

        /// <summary>The newest complete backup's time in the container.</summary>
        public DateTimeOffset? NewestBackup { get; private set; }

        /// <summary>The object written last (or the newest one listed): if it has gone, the container has lost what this state says it holds.</summary>
        public string? Probe { get; set; }

        /// <summary>Whether anything was written since the last retention pass (an idle history needs none).</summary>
        public bool Changed { get; set; } = true;

        /// <summary>When the probe last found its object.</summary>
        public DateTimeOffset? ProbedAt { get; set; }

        /// <summary>Notes an object written.</summary>
        public void Wrote(string key)
        {
            Probe = key;
            Changed = true;
        }

        /// <summary>The oldest complete backup's time in the container (segments older than it are never needed).</summary>
        public DateTimeOffset OldestBackup { get; private set; } = DateTimeOffset.MinValue;

        public static async Task<State> ListAsync(OffsiteHistory remote, CancellationToken cancellationToken)
        {
            var state = new State();
            var listing = await remote.ListAsync(cancellationToken).ConfigureAwait(false);
            foreach (var generation in listing.Generations)
            {
                // Only an unbroken run counts as uploaded: a gap left by an interrupted pass is filled again.
                var segments = listing.SegmentsOf(generation.Id);
                var run = UnbrokenRun(segments);
                state.Uploaded[generation.Id] = segments.Count == 0 ? 0 : segments[0].Sequence - 1 + run;
                state.Probe = state.Uploaded[generation.Id] == 0 ? OffsiteHistory.GenerationBlob(generation.Id) : OffsiteHistory.SegmentBlob(generation.Id, state.Uploaded[generation.Id]);
                state.Levels.UnionWith(listing.LevelsOf(generation.Id).Select(l => l.ObjectName));
            }

            await state.ListBackupsAsync(remote, cancellationToken).ConfigureAwait(false);
            return state;
        }

        /// <summary>Whether the container holds a backup at least as new as <paramref name="generation"/>'s snapshot.</summary>
        public bool Holds(GenerationManifest generation) => NewestBackup is { } newest && newest >= generation.BaseBackupTimestamp;

        /// <summary>Reads the newest and oldest complete backup in the container.</summary>
        public async Task ListBackupsAsync(OffsiteHistory remote, CancellationToken cancellationToken)
        {
            var complete = (await remote.Store.ListAsync(cancellationToken).ConfigureAwait(false)).Where(b => b.IsComplete).ToList();
            NewestBackup = complete.FirstOrDefault()?.TakenAt;
            OldestBackup = complete.Count == 0 ? DateTimeOffset.MinValue : complete.Min(b => b.TakenAt);
        }
    }
}
