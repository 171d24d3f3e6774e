using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;

namespace Emergence.Cli.Commands;

/// <summary>What the <c>--offsite</c> variants of the commands share.</summary>
internal static class OffsiteCommand
{
    /// <summary>What a command passes for "every configured target, read as one".</summary>
    public const string AllTargets = "*";

    /// <summary>The off-volume store (both targets read as one, or <paramref name="target"/> alone), or <see langword="null"/> after saying on stderr that it is not configured.</summary>
    public static OffsiteStore? StoreFor(CliSession session, DatabaseLocation location, string? target = null)
    {
        OffsiteStore? store;
        try
        {
            store = session.Get<OffsiteConnector>().For(location, target);
        }
        catch (ArgumentException ex)
        {
            session.Fail($"--target: {ex.Message}", ExitCodes.Usage);
            return null;
        }

        if (store is null)
        {
            session.Fail($"off-volume copies are not configured: set {PersistenceSettings.EnvName(OffsiteSettings.ConnectionStringKey)} (or {PersistenceSettings.EnvName(OffsiteSettings.ServiceUriKey)}) and {PersistenceSettings.EnvName(OffsiteSettings.ContainerKey)}, or {PersistenceSettings.EnvName(OffsiteSettings.S3BucketKey)}.", ExitCodes.Usage);
        }

        return store;
    }
}
