namespace Emergence.Persistence.Offsite;

/// <summary>The off-volume container could not be reached or refused a request; the message is one line, without secrets.</summary>
public sealed class OffsiteUnavailableException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public OffsiteUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public OffsiteUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no detail.</summary>
    public OffsiteUnavailableException()
    {
    }
}
