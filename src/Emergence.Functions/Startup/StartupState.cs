using Emergence.Persistence.Startup;

namespace Emergence.Functions.Startup;

/// <summary>
/// The outcome of the startup sequence, shared with the functions: health reports "starting" until it
/// completes, and the backup functions wait for it.
/// </summary>
public sealed class StartupState
{
    /// <summary>The problem reported while startup has not finished.</summary>
    public const string StartingProblem = "Startup is still running: the database is not ready yet.";

    /// <summary>The problem reported while startup waits for a required volume (the volume's own sentences follow it).</summary>
    public const string WaitingForVolumeProblem = "Startup is waiting for the volume: no database or backup is created until it can take data, and the app starts by itself once it can.";

    /// <summary>The problem reported while startup waits for the volume lock; the holder's own text follows it.</summary>
    public const string WaitingForLockProblem = "Startup is waiting for the volume lock (another container on this volume has not stopped yet; it releases the lock when it exits), held by:";

    /// <summary>What startup is doing while it has not finished: waiting for the volume, for the lock (naming its holder), or running.</summary>
    public string WaitingSentence() =>
        VolumeProblem is not null ? WaitingForVolumeProblem
        : LockHolder is { } holder ? $"{WaitingForLockProblem} {holder}."
        : StartingProblem;

    private readonly TaskCompletionSource<StartupResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The result once startup has finished, else <see langword="null"/>.</summary>
    public StartupResult? Result => _completion.Task.IsCompletedSuccessfully ? _completion.Task.Result : null;

    /// <summary>Completes when startup has finished (successfully or not).</summary>
    public Task<StartupResult> WhenCompleteAsync(CancellationToken cancellationToken = default) => _completion.Task.WaitAsync(cancellationToken);

    private string? _volumeProblem;

    /// <summary>Why startup is waiting for the volume, while it is; else <see langword="null"/>.</summary>
    public string? VolumeProblem => Volatile.Read(ref _volumeProblem);

    /// <summary>Records that startup waits for the volume (<see langword="null"/>: it no longer does).</summary>
    public void WaitForVolume(string? problem) => Volatile.Write(ref _volumeProblem, problem);

    private string? _lockHolder;

    /// <summary>Who holds the volume lock while startup waits for it (the text the holder wrote); else <see langword="null"/>.</summary>
    public string? LockHolder => Result is null ? Volatile.Read(ref _lockHolder) : null;

    /// <summary>Records that startup waits for the volume lock, held by <paramref name="holder"/>.</summary>
    public void WaitForLock(string holder) => Volatile.Write(ref _lockHolder, holder);

    /// <summary>Records the result; later calls are ignored.</summary>
    public void Complete(StartupResult result) => _completion.TrySetResult(result);
}
