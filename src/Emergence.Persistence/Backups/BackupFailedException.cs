namespace Emergence.Persistence.Backups;

/// <summary>A backup did not complete. Names the step that failed, the path involved and the cause.</summary>
public class BackupFailedException : Exception
{
    /// <summary>Creates the exception for a failed step.</summary>
    public BackupFailedException(string step, string path, string cause, Exception? innerException = null)
        : base($"Backup failed at step '{step}' ({path}): {cause}", innerException)
    {
        Step = step;
        Path = path;
        Cause = cause;
    }

    /// <summary>Creates the exception with a message.</summary>
    public BackupFailedException(string message) : this("unknown", string.Empty, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BackupFailedException(string message, Exception innerException) : this("unknown", string.Empty, message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public BackupFailedException() : this("unknown", string.Empty, "unknown cause")
    {
    }

    /// <summary>The step that failed: <c>lock</c>, <c>preflight</c>, <c>copy</c>, <c>checksum</c>, <c>quick_check</c>, <c>rename</c> or <c>manifest</c>.</summary>
    public string Step { get; }

    /// <summary>The file or directory the step was working on.</summary>
    public string Path { get; }

    /// <summary>What went wrong, in a sentence.</summary>
    public string Cause { get; }
}
