namespace Emergence.Persistence.Metrics;

/// <summary>The values of the <c>result</c> attribute on the backup, restore and drill metrics.</summary>
public static class MetricResults
{
    /// <summary>A backup was written and verified, a restore or drill succeeded.</summary>
    public const string Ok = "ok";

    /// <summary>A backup found the newest one already held the same content, and wrote nothing.</summary>
    public const string Unchanged = "unchanged";

    /// <summary>The operation failed.</summary>
    public const string Failed = "failed";

    /// <summary>A backup was refused because another held the backup lock.</summary>
    public const string Busy = "busy";

    /// <summary>The operation was cancelled (the process is stopping).</summary>
    public const string Cancelled = "cancelled";
}
