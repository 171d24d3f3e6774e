using Emergence.Persistence.Backups;
using Emergence.Persistence.Offsite;

namespace Emergence.Persistence.Recovery;

/// <summary>What an operator asks of a restore: the target, where from, and whether now or on the app's next start.</summary>
public sealed record RestoreOrder
{
    /// <summary>What to restore.</summary>
    public required RestoreTarget Target { get; init; }

    /// <summary>Why, for the log and the restore record.</summary>
    public required string Why { get; init; }

    /// <summary>Verify now and leave a request the running app performs on its next start, instead of restoring now.</summary>
    public bool OnNextStart { get; init; }

    /// <summary>Whether to replace a database that is healthy.</summary>
    public bool Force { get; init; }

    /// <summary>The off-volume container to restore from, or <see langword="null"/> for the backup directory.</summary>
    public OffsiteStore? Store { get; init; }

    /// <summary>Receives copy, download and check progress.</summary>
    public IProgress<OperationProgress>? Progress { get; init; }
}

/// <summary>A request written for the app's next start.</summary>
/// <param name="RequestPath">The request file.</param>
/// <param name="Backup">The backup verified now, restored (and, for <paramref name="Latest"/>, brought forward) then.</param>
/// <param name="RequestedAt">When the request was written.</param>
/// <param name="Latest">Whether the newest point is asked for (the backup and every replicated commit after it).</param>
public sealed record NextStartRequest(string RequestPath, string Backup, DateTimeOffset RequestedAt, bool Latest);

/// <summary>What came of a <see cref="RestoreOrder"/>: a restore, a request for the next start, or a problem.</summary>
/// <param name="Restored">The restore done now, or <see langword="null"/>.</param>
/// <param name="Requested">The request written for the next start, or <see langword="null"/>.</param>
/// <param name="Passed">For a request, the backups that failed verification and were passed over, newest first.</param>
/// <param name="Problem">Why nothing was restored or requested; <see langword="null"/> when something was.</param>
public sealed record RestoreOrderOutcome(RestoreResult? Restored, NextStartRequest? Requested, IReadOnlyList<BackupVerification> Passed, string? Problem)
{
    /// <summary>An order that did nothing, and why.</summary>
    public static RestoreOrderOutcome Failed(string problem, IReadOnlyList<BackupVerification>? passed = null) => new(null, null, passed ?? [], problem);
}
