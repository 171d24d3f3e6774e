namespace Emergence.Persistence.Database;

/// <summary>What an integrity check of a database file found, with the header facts a manifest records.</summary>
/// <param name="CheckResult"><c>ok</c>, or the first error the check reported.</param>
/// <param name="PageSize">The page size in bytes.</param>
/// <param name="PageCount">The number of pages.</param>
/// <param name="UserVersion">The schema version kept in <c>PRAGMA user_version</c>.</param>
/// <param name="SchemaObjects">Entries in <c>sqlite_schema</c> (tables, indexes, views, triggers), or -1 when it could not be read.</param>
public sealed record DatabaseFacts(string CheckResult, long PageSize, long PageCount, int UserVersion, long SchemaObjects = -1)
{
    /// <summary>Whether the check passed.</summary>
    public bool IsOk => CheckResult == "ok";
}
