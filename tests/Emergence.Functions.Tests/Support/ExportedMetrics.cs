namespace Emergence.Functions.Tests.Support;

/// <summary>
/// Tests that read exported metrics run alone: an exporter subscribes to the meter by name, so another test's
/// app in the same process would add its measurements to theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExportedMetrics
{
    public const string Name = "Exported metrics";
}
