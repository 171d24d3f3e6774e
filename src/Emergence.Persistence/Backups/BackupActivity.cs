namespace Emergence.Persistence.Backups;

/// <summary>The outcome of this process's most recent backup attempt, for the health report.</summary>
public sealed class BackupActivity
{
    private readonly Lock _gate = new();
    private (DateTimeOffset At, string Message)? _lastError;

    /// <summary>The last failure's time and message, or <see langword="null"/> when the last attempt succeeded or none was made.</summary>
    public (DateTimeOffset At, string Message)? LastError
    {
        get
        {
            lock (_gate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>Records a successful backup, clearing the last error.</summary>
    public void RecordSuccess()
    {
        lock (_gate)
        {
            _lastError = null;
        }
    }

    /// <summary>Records a failed backup.</summary>
    public void RecordFailure(DateTimeOffset at, string message)
    {
        lock (_gate)
        {
            _lastError = (at, message);
        }
    }
}
