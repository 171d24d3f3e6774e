namespace Emergence.Persistence.Database;

/// <summary>The files SQLite keeps beside a database: <c>-wal</c>, <c>-shm</c> and a rollback <c>-journal</c>.</summary>
public static class SqliteFiles
{
    /// <summary>The suffixes SQLite appends to a database's path for its side files.</summary>
    public static IReadOnlyList<string> SideFileSuffixes { get; } = ["-wal", "-shm", "-journal"];

    /// <summary>The side files of <paramref name="path"/>, whether they exist or not.</summary>
    public static IEnumerable<string> SideFilesOf(string path) => SideFileSuffixes.Select(suffix => path + suffix);

    /// <summary><paramref name="path"/> followed by its side files.</summary>
    public static IEnumerable<string> WithSideFiles(string path) => SideFilesOf(path).Prepend(path);

    /// <summary>Deletes the side files of <paramref name="path"/> (missing ones are fine).</summary>
    public static void DeleteSideFiles(string path)
    {
        foreach (var file in SideFilesOf(path))
        {
            File.Delete(file);
        }
    }

    /// <summary>Deletes <paramref name="path"/> and its side files (missing ones are fine).</summary>
    public static void DeleteWithSideFiles(string path)
    {
        File.Delete(path);
        DeleteSideFiles(path);
    }
}
