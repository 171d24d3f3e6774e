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

    /// <summary>Records the result; later calls are ignored.</summary>
    public void Complete(StartupResult result) => _completion.TrySetResult(result);
}
