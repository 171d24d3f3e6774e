using System.Text.Json;

namespace Emergence.Persistence.Records;

/// <summary>
/// Small JSON records kept in the backup directory so that every process on the volume (the app and
/// <c>emergence-db</c>) reports the same state: the last backup error, the last upload run, the last drill.
/// </summary>
internal static class VolumeRecord
{
    /// <summary>Reads a record; <see langword="null"/> when there is none, <paramref name="unreadable"/>'s value when it cannot be read.</summary>
    public static T? Read<T>(string directory, string fileName, Func<Exception, T> unreadable) where T : class =>
        Read(directory, fileName, unreadable, emptyIsUnreadable: false);

    /// <summary>
    /// Reads a record; <see langword="null"/> when there is none, <paramref name="unreadable"/>'s value when it cannot be
    /// read, and, with <paramref name="emptyIsUnreadable"/>, also when the file holds the JSON <c>null</c>.
    /// </summary>
    public static T? Read<T>(string directory, string fileName, Func<Exception, T> unreadable, bool emptyIsUnreadable) where T : class
    {
        try
        {
            var record = JsonSerializer.Deserialize<T>(Platform.RegularFile.ReadSmall(Path.Combine(directory, fileName)), PersistenceJson.Options);
            return record is null && emptyIsUnreadable ? throw new JsonException("the file is empty") : record;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return unreadable(ex);
        }
    }

    /// <summary>Writes a record durably, replacing the file whole; an error (a read-only or full volume) is the caller's.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be written.</exception>
    public static void Write<T>(string directory, string fileName, T record)
    {
        var path = Path.Combine(directory, fileName);
        Platform.Durable.WriteFileAtomically(path + Platform.Durable.TempSuffix, path, JsonSerializer.SerializeToUtf8Bytes(record, PersistenceJson.Options));
    }

    /// <summary>Writes a record durably; a read-only or full volume cannot take it, which the caller's in-memory copy covers.</summary>
    public static void TryWrite<T>(string directory, string fileName, T record)
    {
        try
        {
            Write(directory, fileName, record);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Kept in memory only.
        }
    }
}
