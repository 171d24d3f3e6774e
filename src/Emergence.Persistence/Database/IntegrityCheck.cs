namespace Emergence.Persistence.Database;

/// <summary>How thoroughly to check a database file.</summary>
public enum IntegrityCheck
{
    /// <summary><c>PRAGMA quick_check</c>: O(N), skips index-content cross-checks.</summary>
    Quick,

    /// <summary><c>PRAGMA integrity_check</c>: O(N log N), also checks every index against its table.</summary>
    Full,
}
