namespace Emergence.Persistence.Backups;

/// <summary>The result of verifying one backup against its manifest.</summary>
/// <param name="Name">The backup's file name.</param>
/// <param name="Ok">Whether the checksum matched and the integrity check passed.</param>
/// <param name="Problem">Why it failed, in a sentence; <see langword="null"/> when it passed.</param>
/// <param name="ChecksumMatches">Whether the file's SHA-256 equals the manifest's; <see langword="null"/> when not computed.</param>
/// <param name="CheckResult"><c>ok</c> or the first integrity error; <see langword="null"/> when not run.</param>
/// <param name="Check"><c>quick_check</c> or <c>integrity_check</c>.</param>
public sealed record BackupVerification(string Name, bool Ok, string? Problem, bool? ChecksumMatches, string? CheckResult, string Check)
{
    /// <summary>
    /// The content checksum of a verified copy (a restore's staging file), when it was asked for: measured from the copy
    /// itself, every page read back from it beside the SHA-256 that matched the manifest; <see langword="null"/> otherwise.
    /// </summary>
    public ulong? CopyContentHash { get; init; }
}
