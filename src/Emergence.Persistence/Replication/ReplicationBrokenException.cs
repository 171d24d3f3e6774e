namespace Emergence.Persistence.Replication;

/// <summary>The history of the database can no longer be followed from the current generation; a new one must start.</summary>
public sealed class ReplicationBrokenException : Exception
{
    /// <summary>Creates the exception with what does not follow.</summary>
    public ReplicationBrokenException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ReplicationBrokenException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ReplicationBrokenException()
    {
    }
}
