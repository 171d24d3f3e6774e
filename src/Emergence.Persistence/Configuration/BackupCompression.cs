namespace Emergence.Persistence.Configuration;

/// <summary>How backup files are stored.</summary>
public enum BackupCompression
{
    /// <summary>As SQLite database files: <c>sqlite3</c> opens them directly.</summary>
    None,

    /// <summary>Brotli at its fastest level, with <c>.br</c> appended to the name: about half the size for about 1.7× the backup time (bench/RESULTS.md).</summary>
    Brotli,
}
