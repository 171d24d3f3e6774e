using Emergence.Persistence.Backups;
using Emergence.Persistence.Configuration;
using Emergence.Persistence.Database;
using Emergence.Persistence.Platform;
using Emergence.Persistence.Volumes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// A per-test temp directory with the persistence services wired to it: real SQLite and real files,
/// a fake clock, captured logs, and a system probe whose environment the test controls.
/// </summary>
public sealed class TestHarness : IDisposable
{
    /// <summary>The fixed start of every test's clock.</summary>
    public static readonly DateTimeOffset Start = new(2025, 1, 14, 10, 30, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;

    public TestHarness(IDictionary<string, string?>? settings = null, string? root = null, bool realTime = false, Action<IServiceCollection>? configureServices = null)
    {
        Root = root ?? Directory.CreateTempSubdirectory("emergence-test-").FullName;
        OwnsRoot = root is null;
        Time = new FakeTimeProvider(Start) { AutoAdvanceAmount = TimeSpan.Zero };
        Probe = new FakeSystemProbe();
        Logs = new FakeLogCollector();
        var values = new Dictionary<string, string?>
        {
            ["Persistence:DatabasePath"] = Path.Combine(Root, "data", "database.sqlite"),
            ["Persistence:FallbackDirectory"] = Path.Combine(Root, "fallback"),
            ["Persistence:LockTimeoutSeconds"] = "2",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(realTime ? TimeProvider.System : Time);
        services.AddSingleton<ISystemProbe>(Probe);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
        services.AddEmergencePersistence(configuration);
        configureServices?.Invoke(services);
        _services = services.BuildServiceProvider();
    }

    public string Root { get; }

    private bool OwnsRoot { get; }

    public FakeTimeProvider Time { get; }

    public FakeSystemProbe Probe { get; }

    public FakeLogCollector Logs { get; }

    public PersistenceOptions Options => Get<IOptions<PersistenceOptions>>().Value;

    public string DatabasePath => Options.DatabasePath;

    public string BackupDirectory => Options.BackupDirectoryFor(DatabasePath);

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public DatabaseLocation Locate() => Get<DatabaseLocator>().Resolve();

    /// <summary>Moves the clock on by <paramref name="advance"/> (a minute by default) and takes a manual backup.</summary>
    public Task<BackupManifest> BackupAsync(TimeSpan? advance = null)
    {
        Time.Advance(advance ?? TimeSpan.FromMinutes(1));
        return Get<BackupService>().CreateAsync(Locate(), BackupReason.Manual, TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Runs <paramref name="action"/> holding the volume lock, as startup and the CLI do.</summary>
    public T WithVolumeLock<T>(Func<DatabaseLocation, VolumeLock, T> action)
    {
        var location = Locate();
        using var held = VolumeLock.TryAcquire(location.LockPath, Time, out _)!;
        return action(location, held);
    }

    /// <summary>Creates the database with a ledger: <paramref name="accounts"/> accounts holding 100 each.</summary>
    public void CreateLedger(int accounts = 10)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using var connection = Get<SqliteConnectionFactory>().OpenOrCreate(DatabasePath);
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
            CREATE TABLE transfers (id INTEGER PRIMARY KEY, from_id INTEGER NOT NULL, to_id INTEGER NOT NULL, amount INTEGER NOT NULL);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {accounts})
            INSERT INTO accounts (id, balance) SELECT i, 100 FROM n;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Inserts rows of text into a <c>notes</c> table (created when missing).</summary>
    public void AddNotes(int count, string prefix = "note")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using var connection = Get<SqliteConnectionFactory>().OpenOrCreate(DatabasePath);
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)";
        command.ExecuteNonQuery();
        command.CommandText = "INSERT INTO notes (body) VALUES ($body)";
        var body = command.CreateParameter();
        body.ParameterName = "$body";
        command.Parameters.Add(body);
        for (var i = 0; i < count; i++)
        {
            body.Value = $"{prefix} {i}";
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public void Dispose()
    {
        _services.Dispose();
        if (OwnsRoot)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A mount left behind by a failed fault test; the temp folder is cleaned by the OS.
            }
        }
    }
}
