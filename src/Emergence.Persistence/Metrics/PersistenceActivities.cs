using System.Diagnostics;

namespace Emergence.Persistence.Metrics;

/// <summary>
/// Spans around the work the replicator does beside the app's writers, on one <see cref="ActivitySource"/> named
/// <see cref="SourceName"/>: each step along the log, the checkpoint, the moments it waits for and holds the write
/// lock, a segment made durable, and a compaction pass. They answer one question: what was the replicator doing when a
/// commit was slow (the benchmark's steady writer prints that table). Nothing exports them; with no
/// <see cref="ActivityListener"/> registered, starting one costs a check and returns <see langword="null"/>.
/// </summary>
public static class PersistenceActivities
{
    /// <summary>The source's name: what a listener subscribes to.</summary>
    public const string SourceName = "Emergence.Persistence";

    /// <summary>A poll: the commits since the last step copied, the open segment closed and made durable.</summary>
    public const string Poll = "replication.poll";

    /// <summary>A step between polls: the commits since the last step copied into the open segment.</summary>
    public const string Step = "replication.step";

    /// <summary>The checkpoint that lets the log restart, from its first pass to the write lock's release.</summary>
    public const string Checkpoint = "replication.checkpoint";

    /// <summary>Waiting for the write lock (<c>BEGIN IMMEDIATE</c>), the app's writer holding it.</summary>
    public const string WaitingForWriters = "replication.writers.waiting";

    /// <summary>Holding the write lock: the app's writers wait.</summary>
    public const string HoldingWriters = "replication.writers.held";

    /// <summary>A segment made durable: its file and its record synced, the rename in the directory.</summary>
    public const string SegmentCommit = "replication.segment.commit";

    /// <summary>A pass of the history compactor over the generations.</summary>
    public const string Compaction = "history.compaction";

    /// <summary>The history's upkeep at a step: the space budget, and every ten minutes the prune and the audit.</summary>
    public const string Upkeep = "history.upkeep";

    /// <summary>The source the spans start on.</summary>
    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>Starts a span named <paramref name="name"/> when a listener wants it.</summary>
    public static Activity? Start(string name) => Source.StartActivity(name, ActivityKind.Internal);
}
