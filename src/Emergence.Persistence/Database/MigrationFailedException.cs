namespace Emergence.Persistence.Database;

/// <summary>Migrations did not run or one failed; the schema is at the last version that committed.</summary>
public sealed class MigrationFailedException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public MigrationFailedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public MigrationFailedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public MigrationFailedException()
    {
    }
}
