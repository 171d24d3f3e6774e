using Emergence.Persistence.Recovery;

namespace Emergence.Persistence.Backups;

/// <summary>
/// A backup was named by something that is not a backup's file name (a path, a traversal, another
/// file): nothing outside the backup directory is ever read.
/// </summary>
public sealed class InvalidBackupNameException : RestoreFailedException
{
    /// <summary>Creates the exception for the rejected name and an example of a valid one.</summary>
    public InvalidBackupNameException(string name, string example)
        : base($"'{name}' is not a backup name: expected a file name like {example}, as 'emergence-db list' prints it.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidBackupNameException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InvalidBackupNameException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public InvalidBackupNameException()
    {
    }
}
