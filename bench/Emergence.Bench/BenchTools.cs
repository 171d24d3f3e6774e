using System.Diagnostics;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Replication;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>What every section shares: the app's services on a database, the physical reference copy, and small timing helpers.</summary>
internal static class BenchTools
{
    /// <summary>The library's and the app's services on <paramref name="databasePath"/>, keeping every backup the sections take.</summary>
    public static ServiceProvider Services(string databasePath, string compression = "none", Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = databasePath,
            ["Persistence:KeepBackups"] = "1000",
            ["Persistence:Compression"] = compression,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddEmergencePersistence(configuration);
        collection.AddEmergenceFunctionApp(configuration);
        return collection.BuildServiceProvider();
    }

    /// <summary>The physical reference for a durable copy, the same in every section: <c>dd</c> with fsync, 4 MiB blocks.</summary>
    public static double RawCopy(string source, string target) => Shell.Time("dd", $"if={source}", $"of={target}", "bs=4M", "conv=fsync", "status=none");

    /// <summary>Removes a backup the benchmark made (its manifest first, as rotation does).</summary>
    public static void Discard(BackupManifest manifest)
    {
        File.Delete(manifest.BackupPath + BackupNaming.ManifestSuffix);
        File.Delete(manifest.BackupPath);
    }

    /// <summary>
    /// Removes the mark a restore leaves on each generation it replaced, so the next restore replays the same history
    /// (a restore to a point refuses the points of an ended generation at or after its end).
    /// </summary>
    public static void ReopenGenerations(ReplicationStore store, string databasePath)
    {
        foreach (var generation in store.Generations(databasePath))
        {
            File.Delete(Path.Combine(store.DirectoryOf(generation.Id), ReplicationStore.EndedFileName));
        }
    }

    /// <summary>Writes back every dirty page (<c>sync</c>), so the next measurement pays for none left by the one before.</summary>
    public static void Settle() => Shell.Time("sync");

    /// <summary>How many seconds <paramref name="action"/> took.</summary>
    public static double TimeIt(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Runs one statement on <paramref name="database"/> (opened read-only when <paramref name="readOnly"/>), stepping through every row it returns.</summary>
    public static void Sql(string database, string sql, bool readOnly = false)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode={(readOnly ? "ReadOnly" : "ReadWrite")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
