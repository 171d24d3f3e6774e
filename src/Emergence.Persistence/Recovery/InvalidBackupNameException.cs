using Emergence.Persistence.Backups;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// A backup was named by something that is not a backup's file name (a path, a traversal, another
/// file): nothing outside the backup directory is ever read.
/// </summary>
public sealed class InvalidBackupNameException : RestoreFailedException
{
    /// <summary>Rejects anything but a backup's file name (a path, a traversal, another file) before any file is touched.</summary>
    /// <exception cref="InvalidBackupNameException">The name is not a backup's file name.</exception>
    public static void ThrowIfNotBackupName(BackupNaming naming, string name)
    {
        ArgumentNullException.ThrowIfNull(naming);
        if (!naming.IsBackupName(name))
        {
            throw new InvalidBackupNameException(name, naming.Example);
        }
    }

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
