namespace Emergence.Cli;

/// <summary>The options every command accepts.</summary>
/// <param name="Database">Overrides <c>Persistence__DatabasePath</c>.</param>
/// <param name="BackupDirectory">Overrides <c>Persistence__BackupDirectory</c>.</param>
/// <param name="Json">Print results as JSON.</param>
/// <param name="Verbose">Also log information-level events to stderr.</param>
public sealed record GlobalOptions(string? Database, string? BackupDirectory, bool Json, bool Verbose);
