namespace Emergence.Persistence.Volumes;

/// <summary>The volume lock stayed held by another process for longer than the wait allowed.</summary>
public sealed class VolumeLockTimeoutException : Exception
{
    /// <summary>Creates the exception for a lock file, its holder and the time waited.</summary>
    public VolumeLockTimeoutException(string lockPath, string? holder, TimeSpan waited)
        : base($"The volume lock '{lockPath}' is held by {holder ?? "another process"}; gave up after {waited.TotalSeconds:0} s.")
    {
        LockPath = lockPath;
        Holder = holder;
    }

    /// <summary>Creates the exception with a message.</summary>
    public VolumeLockTimeoutException(string message) : base(message) => LockPath = string.Empty;

    /// <summary>Creates the exception with a message and a cause.</summary>
    public VolumeLockTimeoutException(string message, Exception innerException) : base(message, innerException) => LockPath = string.Empty;

    /// <summary>Creates the exception with no detail.</summary>
    public VolumeLockTimeoutException() => LockPath = string.Empty;

    /// <summary>The lock file that was held.</summary>
    public string LockPath { get; }

    /// <summary>What the lock file says about its holder, when it says anything.</summary>
    public string? Holder { get; }
}
