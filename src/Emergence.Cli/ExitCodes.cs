namespace Emergence.Cli;

/// <summary>The CLI's exit codes, as documented for operators and scripts.</summary>
public static class ExitCodes
{
    /// <summary>Success; for <c>status</c>, healthy.</summary>
    public const int Ok = 0;

    /// <summary>The command failed (the reason is on stderr); for <c>status</c>, degraded.</summary>
    public const int Failed = 1;

    /// <summary>For <c>status</c> and <c>startup</c>: unhealthy.</summary>
    public const int Unhealthy = 2;

    /// <summary>Bad arguments or a bad setting (sysexits' EX_USAGE).</summary>
    public const int Usage = 64;

    /// <summary>A command other than <c>replicate</c> stopped by SIGINT or SIGTERM before it finished (the shell's 128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
