using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Tests.Support;

/// <summary>Reports on the thread that reports (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
public sealed class InlineProgress(Action<OperationProgress> report) : IProgress<OperationProgress>
{
    public void Report(OperationProgress value) => report(value);
}
