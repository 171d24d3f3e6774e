namespace Emergence.Persistence.Health;

/// <summary>The overall verdict of a health report.</summary>
public enum HealthStatus
{
    /// <summary>Nothing is wrong.</summary>
    Healthy,

    /// <summary>The data is safe now but protection is weakened (no recent backup, low space, fallback in use).</summary>
    Degraded,

    /// <summary>The data is not safe or not usable: not on the volume, not writable, missing or unopenable.</summary>
    Unhealthy,
}
