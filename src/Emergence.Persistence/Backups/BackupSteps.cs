using Microsoft.Data.Sqlite;

namespace Emergence.Persistence.Backups;

/// <summary>
/// The steps of one backup, each run under its name: a failure becomes a <see cref="BackupFailedException"/>
/// naming the step that was running, the path it worked on and the cause (a full disk said so, measured
/// before anything is cleaned up, while the disk is still as full as it was). Cancellation and failures
/// already named pass through.
/// </summary>
internal sealed class BackupSteps(string backupDirectory)
{
    /// <summary>Runs one step.</summary>
    /// <exception cref="BackupFailedException">The step failed.</exception>
    public T Run<T>(string step, string path, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception ex) when (ex is not BackupFailedException and not OperationCanceledException)
        {
            throw new BackupFailedException(step, path, Describe(ex, backupDirectory), ex);
        }
    }

    /// <summary>Runs one step that returns nothing.</summary>
    /// <exception cref="BackupFailedException">The step failed.</exception>
    public void Run(string step, string path, Action work) => Run(step, path, () =>
    {
        work();
        return true;
    });

    /// <summary>
    /// Runs file-system housekeeping (a sweep, a rotation) as a step: only I/O and permission errors are its
    /// failures; anything else is a bug and passes through unnamed.
    /// </summary>
    /// <exception cref="BackupFailedException">A file could not be read or deleted.</exception>
    public static void Housekeeping(string step, string path, Action work)
    {
        try
        {
            work();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackupFailedException(step, path, ex.Message, ex);
        }
    }

    private static string Describe(Exception ex, string directory)
    {
        // SQLite reports ENOSPC as SQLITE_FULL (13) on most paths, but as a plain I/O error (10, e.g.
        // SQLITE_IOERR_WRITE) on others: an I/O error with no room left on the disk is a full disk.
        var (available, _) = Volumes.VolumeInspector.ReadSpace(directory);
        var primaryCode = ex is SqliteException sqlite ? sqlite.SqliteErrorCode & 0xFF : 0; // extended codes carry the primary one in the low byte
        var full = primaryCode == 13
            || (primaryCode == 10 && available < BackupSpace.MinimumMarginBytes)
            || (ex is IOException io && (io.HResult & 0xFFFF) == 28)
            || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return full ? $"the disk is full ({available} bytes free in {directory}): {ex.Message}" : ex.Message;
    }
}
