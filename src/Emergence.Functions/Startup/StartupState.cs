using Emergence.Persistence.Startup;

namespace Emergence.Functions.Startup;

/// <summary>
/// The outcome of the startup sequence, shared with the functions: health reports "starting" until it
/// completes, and the backup functions wait for it.
/// </summary>
public sealed class StartupState
{
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
