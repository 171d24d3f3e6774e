namespace Emergence.Persistence.Records;

/// <summary>
/// The restore requests beside a database, <see cref="RestoreRequest.FileName"/> and the failed one kept under
/// <see cref="RestoreRequest.FailedFileName"/>. Written by one process (<c>emergence-db restore --on-next-start</c>,
/// or startup when the request fails) and read by another, so no process keeps a copy of its own; a request that
/// cannot be written is an error for its writer. A file that cannot be read, or holds no request, reads as a request
/// whose <see cref="RestoreRequest.Error"/> says why.
/// </summary>
public static class RestoreRequests
{
    private static readonly VolumeRecord<RestoreRequest> Pending = new(RestoreRequest.FileName, Invalid, recordedAt: null, emptyIsUnreadable: true);

    private static readonly VolumeRecord<RestoreRequest> Failed = new(RestoreRequest.FailedFileName, Invalid, recordedAt: null, emptyIsUnreadable: true);

    /// <summary>The request beside the database in <paramref name="databaseDirectory"/>, or <see langword="null"/>.</summary>
    public static RestoreRequest? Read(string databaseDirectory) => Pending.Read(databaseDirectory);

    /// <summary>The failed request kept beside the database, or <see langword="null"/>.</summary>
    public static RestoreRequest? ReadFailed(string databaseDirectory) => Failed.Read(databaseDirectory);

    /// <summary>Writes the request durably, replacing any earlier one.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be written.</exception>
    public static void Write(string databaseDirectory, RestoreRequest request) => Pending.WriteOrThrow(databaseDirectory, request);

    /// <summary>Keeps a failed request (with its <see cref="RestoreRequest.Error"/>) for the operator, replacing any earlier one.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be written.</exception>
    public static void WriteFailed(string databaseDirectory, RestoreRequest request) => Failed.WriteOrThrow(databaseDirectory, request);

    /// <summary>Deletes the request (once performed, or kept as failed).</summary>
    public static void Delete(string databaseDirectory) => Pending.Delete(databaseDirectory);

    private static RestoreRequest Invalid(string path, Exception error) =>
        new() { Backup = "", RequestedAt = DateTimeOffset.MinValue, Error = $"the request file {path} is not valid: {Platform.Printable.Escape(error.Message)}" };
}
