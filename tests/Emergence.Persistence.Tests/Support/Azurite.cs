using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// A real Azurite blob service on 127.0.0.1, from the project's own <c>package.json</c>
/// (<c>npm ci</c>), with its data in a temp directory. It can be stopped (killed) and started again on
/// the same port and data, to cut the storage service off mid-operation.
/// </summary>
public sealed class Azurite : IDisposable
{
    /// <summary>Azurite's well-known development account key (public, documented by Azurite).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _executable;
    private Process? _process;

    private Azurite(string executable, bool debugLog)
    {
        _executable = executable;
        DebugLog = debugLog;
        Location = Directory.CreateTempSubdirectory("emergence-azurite-").FullName;
        Port = FreePort();
    }

    /// <summary>The loopback port the blob service listens on.</summary>
    public int Port { get; }

    /// <summary>Whether Azurite writes its debug log, one entry per request among others, to <see cref="DebugLogPath"/>.</summary>
    public bool DebugLog { get; }

    /// <summary>Where the debug log is written, when <see cref="DebugLog"/> is on.</summary>
    public string DebugLogPath => Path.Combine(Location, "debug.log");

    /// <summary>
    /// The method of every request Azurite has received so far, in order, from its debug log (one
    /// <c>RequestMethod=</c> entry per request, written before the request is handled).
    /// </summary>
    public IReadOnlyList<string> LoggedRequests()
    {
        const string Marker = "BlobStorageContextMiddleware: RequestMethod=";
        using var stream = new FileStream(DebugLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var methods = new List<string>();
        foreach (var line in reader.ReadToEnd().Split('\n'))
        {
            var at = line.IndexOf(Marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                var method = line[(at + Marker.Length)..];
                var end = method.IndexOf(' ', StringComparison.Ordinal);
                methods.Add(end < 0 ? method.Trim() : method[..end]);
            }
        }

        return methods;
    }

    /// <summary>Azurite's data directory.</summary>
    public string Location { get; }

    /// <summary>A connection string for the development account on this instance.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    /// <summary>
    /// Starts an instance. Skips the test when Azurite is not installed (run <c>npm ci</c>), except under
    /// CI=true, where the suite must not silently lose its storage tests: fails instead.
    /// </summary>
    public static Azurite Start(bool debugLog = false)
    {
        var executable = LoopbackServer.Installed("Azurite", Path.Combine(RepositoryRoot(), "node_modules", ".bin", "azurite-blob"));

        var azurite = new Azurite(executable, debugLog);
        azurite.Resume();
        return azurite;
    }

    /// <summary>Starts (again) on the same port and data directory, and waits until it accepts connections.</summary>
    public void Resume()
    {
        var arguments = new[] { "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--location", Location, "--silent", "--skipApiVersionCheck", "--loose" }.ToList();
        if (DebugLog)
        {
            arguments.Add("--debug");
            arguments.Add(DebugLogPath);
        }

        _process = LoopbackServer.Start("Azurite", _executable, arguments, Port);
    }

    /// <summary>Kills the service (SIGKILL): requests in flight fail, later connections are refused.</summary>
    public void Kill()
    {
        LoopbackServer.Kill(_process);
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        LoopbackServer.DeleteData(Location);
    }

    /// <summary>A port nothing listens on at the moment.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The repository's root, above the test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Functions.sln")) && File.Exists(Path.Combine(directory.FullName, "package.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root above {AppContext.BaseDirectory}.");
    }
}
