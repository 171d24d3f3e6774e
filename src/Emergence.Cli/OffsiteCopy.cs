using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;

namespace Emergence.Cli;

/// <summary>Runs an off-volume upload after a command's local work, and says what it did.</summary>
internal static class OffsiteCopy
{
    /// <summary>How long the CLI waits for the app's upload run to finish before its own.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Uploads what is pending when off-volume copies are configured. Prints one line (text output
    /// only); a failure goes to stderr as a warning and does not change the exit code.
    /// </summary>
    public static async Task<OffsiteSyncResult> RunAsync(CliSession session, DatabaseLocation location, CancellationToken cancellationToken)
    {
        OffsiteSyncResult result;
        using (var progress = session.CreateProgress())
        {
            result = await session.Get<BackupUploader>().SyncAsync(location, LockWait, progress, cancellationToken).ConfigureAwait(false);
        }

        if (!result.Enabled)
        {
            return result;
        }

        if (result.Error is { } error)
        {
            await session.Error.WriteLineAsync($"emergence-db: warning: the off-volume copy to container {result.Container} failed (local backups are intact; the next run retries): {error}").ConfigureAwait(false);
        }
        else if (!session.Json)
        {
            var uploaded = result.Uploaded.Count == 0 ? "nothing new to copy" : $"copied {string.Join(", ", result.Uploaded.Select(u => u.Name))}";
            await session.Output.WriteLineAsync($"offsite:   {uploaded} to container {result.Container} ({result.Count} backups there)").ConfigureAwait(false);
        }

        return result;
    }
}
