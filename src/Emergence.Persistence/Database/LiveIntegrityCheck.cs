using Emergence.Persistence.Logging;
using Emergence.Persistence.Records;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Emergence.Persistence.Database;

/// <summary>
/// Runs <c>quick_check</c> on the live database (read-only, through a memory map: about half a second per GiB
/// here) and records the result for health, so a corrupt page is reported before the next backup trips over it.
/// </summary>
public sealed class LiveIntegrityCheck(SqliteConnectionFactory connections, IntegrityRecord record, TimeProvider time, ILogger<LiveIntegrityCheck> logger)
{
    /// <summary>Whether a check is due: none recorded for the database, or the last is older than <paramref name="interval"/>.</summary>
    public bool IsDue(DatabaseLocation location, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(location);
        return record.LastFor(location.BackupDirectory, location.DatabasePath) is not { } last || time.GetUtcNow() - last.CheckedAt >= interval;
    }

    /// <summary>Checks the database now and records the result (logging a failure at error level).</summary>
    public IntegrityRecord.IntegrityResult Run(DatabaseLocation location, string source)
    {
        ArgumentNullException.ThrowIfNull(location);
        string result;
        if (Platform.RegularFile.NotADatabaseFile(location.DatabasePath) is { } special)
        {
            result = $"the database path is {special}";
        }
        else
        {
            try
            {
                using var connection = connections.OpenMapped(location.DatabasePath);
                result = DatabaseInspector.Check(connection, IntegrityCheck.Quick).CheckResult;
            }
            catch (SqliteException ex)
            {
                result = ex.Message;
            }
        }

        var checkedResult = new IntegrityRecord.IntegrityResult(time.GetUtcNow(), result, source, location.DatabasePath);
        record.Record(location.BackupDirectory, checkedResult);
        if (!checkedResult.Ok)
        {
            PersistenceLog.DatabaseIntegrityFailed(logger, location.DatabasePath, source, result);
        }

        return checkedResult;
    }
}
