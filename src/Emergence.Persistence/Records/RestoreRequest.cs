using System.Text.Json;

namespace Emergence.Persistence.Records;

/// <summary>
/// A one-shot request, written by <c>emergence-db restore --on-next-start</c> beside the database,
/// that the app's startup performs before serving and then deletes. A request that fails is renamed
/// to <see cref="FailedFileName"/>, reported by health and never retried.
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

    /// <summary>Writes the request durably, replacing any earlier one.</summary>
    public void Write(string path)
    {
        var temp = path + Platform.Durable.TempSuffix;
        Platform.Durable.WriteFileAtomically(temp, path, JsonSerializer.SerializeToUtf8Bytes(this, PersistenceJson.Options));
    }

    /// <summary>Reads a request file; a file that does not parse yields a request whose <see cref="Error"/> says so.</summary>
    public static RestoreRequest? Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = Platform.RegularFile.ReadSmall(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Invalid(path, ex.Message);
        }

        try
        {
            return JsonSerializer.Deserialize<RestoreRequest>(bytes, PersistenceJson.Options)
                ?? throw new JsonException("the file is empty");
        }
        catch (JsonException ex)
        {
            return Invalid(path, ex.Message);
        }
    }

    private static RestoreRequest Invalid(string path, string why) =>
        new() { Backup = "", RequestedAt = DateTimeOffset.MinValue, Error = $"the request file {path} is not valid: {Platform.Printable.Escape(why)}" };
}
