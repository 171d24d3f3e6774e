namespace Emergence.Persistence.Backups;

/// <summary>Progress of a long backup or restore: the current phase and, where it is known, bytes done of a total.</summary>
/// <param name="Phase">A short phase name, e.g. <c>copy</c>, <c>checksum</c>, <c>quick_check</c>.</param>
/// <param name="Done">Bytes done in this phase, 0 when not measured.</param>
/// <param name="Total">Bytes in this phase, 0 when the phase is not measured (an integrity check).</param>
public readonly record struct OperationProgress(string Phase, long Done, long Total);
