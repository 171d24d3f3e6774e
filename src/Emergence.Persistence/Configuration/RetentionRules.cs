namespace Emergence.Persistence.Configuration;

/// <summary>How many backups each tier of rotation keeps.</summary>
/// <param name="KeepLast">The newest backups of distinct content (<c>Persistence__KeepBackups</c>, 1 or more).</param>
/// <param name="KeepDaily">One per UTC day for this many days (<c>Persistence__KeepDaily</c>; 0 for none).</param>
/// <param name="KeepWeekly">One per week for this many weeks (<c>Persistence__KeepWeekly</c>; 0 for none).</param>
public sealed record RetentionRules(int KeepLast, int KeepDaily, int KeepWeekly);
