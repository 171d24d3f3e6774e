namespace Emergence.Persistence.Records;

/// <summary>
/// A one-shot request, written by <c>emergence-db restore --on-next-start</c> beside the database,
/// that the app's startup performs before serving and then deletes. A request that fails is renamed
/// to <see cref="FailedFileName"/>, reported by health and never retried. <see cref="RestoreRequests"/> reads
/// and writes both files.
/// </summary>
public sealed record RestoreRequest
{
    /// <summary>The request file's name in the database directory.</summary>
    public const string FileName = ".restore-request";

    /// <summary>The name a failed request is kept under.</summary>
    public const string FailedFileName = ".restore-request.failed";

    /// <summary>The backup to restore (a file name in the backup directory), verified when requested.</summary>
    public required string Backup { get; init; }

    /// <summary>When the request was made (UTC).</summary>
    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>
    /// Whether the request is for the newest point (<c>--latest</c>): the newest backup that verifies and every replicated
    /// commit after it, exactly as <c>restore --latest</c> restores now; <see cref="Backup"/> then names the backup
    /// verified when it was requested. <see langword="false"/> (or absent): exactly the backup named.
    /// </summary>
    public bool Latest { get; init; }

    /// <summary>Why it failed, only in a failed request file.</summary>
    public string? Error { get; init; }

    /// <summary>The request file in a database directory.</summary>
    public static string PathFor(string databaseDirectory) => Path.Combine(databaseDirectory, FileName);

    /// <summary>The failed-request file in a database directory.</summary>
    public static string FailedPathFor(string databaseDirectory) => Path.Combine(databaseDirectory, FailedFileName);
}
