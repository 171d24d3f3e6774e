namespace Emergence.Persistence.Database;

/// <summary>The state a probe found the database file in.</summary>
public enum DatabaseCondition
{
    /// <summary>It opens and passes <c>quick_check</c>.</summary>
    Healthy,

    /// <summary>There is no file.</summary>
    Missing,

    /// <summary>The file has zero bytes: SQLite would treat it as a new, empty database.</summary>
    Empty,

    /// <summary>SQLite cannot open or read it (not a database, unreadable, locked beyond the timeout).</summary>
    Unopenable,

    /// <summary>It opens but fails <c>quick_check</c>.</summary>
    Corrupt,

    /// <summary>It opens and passes, but has lost every table that the newest good backup holds (judged by <c>Backups/ContentLoss.cs</c>, which the caller applies).</summary>
    Emptied,
}
