namespace Emergence.Persistence.Recovery;

/// <summary>A restore did not happen or did not complete; the database was left as it was.</summary>
public class RestoreFailedException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public RestoreFailedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public RestoreFailedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public RestoreFailedException()
    {
    }
}
