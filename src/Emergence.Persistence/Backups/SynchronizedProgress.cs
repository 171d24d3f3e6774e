namespace Emergence.Persistence.Backups;

/// <summary>Passes reports from several threads to a progress sink one at a time.</summary>
internal sealed class SynchronizedProgress(IProgress<OperationProgress> inner) : IProgress<OperationProgress>
{
    private readonly Lock _gate = new();

    public void Report(OperationProgress value)
    {
        lock (_gate)
        {
            inner.Report(value);
        }
    }
}
