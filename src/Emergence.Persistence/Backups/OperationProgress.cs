namespace Emergence.Persistence.Backups;

/// <summary>Progress of a long backup or restore: the current phase and, where it is known, bytes done of a total.</summary>
/// <param name="Phase">A short phase name, e.g. <c>copy</c>, <c>checksum</c>, <c>quick_check</c>.</param>
/// <param name="Done">Bytes done in this phase, 0 when not measured.</param>
/// <param name="Total">Bytes in this phase, 0 when the phase is not measured (an integrity check).</param>
public readonly record struct OperationProgress(string Phase, long Done, long Total)
{
    /// <summary>The (bytes done, total) callback of a checksum over a file, reporting to <paramref name="progress"/> as phase <c>checksum</c>.</summary>
    internal static Action<long, long>? Checksum(IProgress<OperationProgress>? progress) =>
        progress is null ? null : (done, total) => progress.Report(new OperationProgress("checksum", done, total));
}
