namespace Emergence.Persistence.Backups;

/// <summary>Another backup holds the backup lock: this one did not start.</summary>
public sealed class BackupInProgressException : BackupFailedException
{
    /// <summary>Creates the exception for the backup lock file and its holder.</summary>
    public BackupInProgressException(string lockPath, string? holder)
        : base("lock", lockPath, $"another backup is running ({holder ?? "holder unknown"})")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BackupInProgressException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BackupInProgressException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public BackupInProgressException()
    {
    }
}
