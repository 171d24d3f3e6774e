using Emergence.Persistence.Configuration;
using Emergence.Persistence.Records;

namespace Emergence.Persistence.Health;

/// <summary>Continuous replication: lag within <see cref="ReplicationOptions.MaxLag"/>, no failure. Every finding is degraded.</summary>
public sealed class ReplicationCheck(ReplicationActivity activity)
{
    /// <summary>Checks the replicator's recorded state; the section is <see langword="null"/> when no replicator has recorded one.</summary>
    public Checked<ReplicationReport?> Check(string backupDirectory, DateTimeOffset now, ReplicationOptions settings, string? databasePath = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (activity.StateFor(backupDirectory, databasePath) is not { } state)
        {
            return new Checked<ReplicationReport?>(null, []);
        }

        var findings = new List<HealthFinding>();
        long? lag = state.CaughtUpAt is { } caughtUp ? Math.Max(0, (long)(now - caughtUp).TotalSeconds) : null;
        if (state.LastError is { } error)
        {
            findings.Add(HealthFinding.Degraded($"WAL replication failed at {UtcSecondsConverter.Format(state.RecordedAt)}: {error}"));
        }
        else if (lag is { } seconds && seconds > settings.MaxLag.TotalSeconds)
        {
            findings.Add(HealthFinding.Degraded($"WAL replication is {Durations.Describe(TimeSpan.FromSeconds(seconds))} behind (more than {Durations.Describe(settings.MaxLag)}): commits since then are only in the live database."));
        }

        if (state.HistoryProblem is { } damaged)
        {
            findings.Add(HealthFinding.Degraded($"The replicated history is damaged: {damaged}."));
        }

        if (state.WindowProblem is { } shortened)
        {
            findings.Add(HealthFinding.Degraded(shortened));
        }

        long? offsiteLag = state.OffsiteCaughtUpAt is { } off ? Math.Max(0, (long)(now - off).TotalSeconds) : null;
        if (state.OffsiteLastError is { } offsiteError)
        {
            findings.Add(HealthFinding.Degraded($"copying WAL segments off the volume failed: {offsiteError}"));
        }
        else if (offsiteLag is { } behind && behind > settings.MaxLag.TotalSeconds)
        {
            findings.Add(HealthFinding.Degraded($"WAL segments off the volume are {Durations.Describe(TimeSpan.FromSeconds(behind))} behind (more than {Durations.Describe(settings.MaxLag)}): a lost volume would cost that much."));
        }

        var report = new ReplicationReport
        {
            Generation = state.Generation,
            LagSeconds = lag,
            LastSegment = state.LastSegment,
            LastSegmentAt = state.LastSegmentAt,
            OffsiteLagSeconds = offsiteLag,
            LastError = state.LastError,
            OffsiteLastError = state.OffsiteLastError,
            LogBytes = state.LogBytes,
            LogHighWaterBytes = state.LogHighWaterBytes,
            HistoryProblem = state.HistoryProblem,
            WindowProblem = state.WindowProblem,
        };
        return new Checked<ReplicationReport?>(report, findings);
    }
}
