using Emergence.Persistence.Database;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>A benchmark's working folder made afresh, with a database of a given size in it.</summary>
internal static class BenchWorkspace
{
    /// <summary>
    /// Deletes <paramref name="work"/> when it exists, then makes the services for a database under it (its backups in
    /// the default place beside it) and fills that database to <paramref name="sizeMib"/> MiB, saying so on the console.
    /// </summary>
    public static (ServiceProvider Provider, DatabaseLocation Location) WithDatabase(Func<string, string, ServiceProvider> services, string work, int sizeMib)
    {
        var (provider, location) = Empty(services, work);
        Console.Write($"generating {sizeMib} MiB… ");
        BenchDatabase.Create(location.DatabasePath, (long)sizeMib << 20, new Progress<double>(_ => Console.Write('.')));
        Console.WriteLine();
        return (provider, location);
    }

    /// <summary>Deletes <paramref name="work"/> when it exists, then makes the services for a database under it (not created yet).</summary>
    public static (ServiceProvider Provider, DatabaseLocation Location) Empty(Func<string, string, ServiceProvider> services, string work)
    {
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        var provider = services(Path.Combine(work, "data", "database.sqlite"), "none");
        return (provider, provider.GetRequiredService<DatabaseLocator>().Resolve());
    }
}
