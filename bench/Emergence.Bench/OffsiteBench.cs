using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Offsite;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>
/// A verified backup copied off the volume and back, to each kind of target side by side in one run: Azure Blob
/// Storage (Azurite) and an S3 store (s3rver, which checks request signatures, as a Railway Bucket does), both on
/// loopback, through the same settings and code the app uses; as ratios to a full local backup.
/// </summary>
internal static class OffsiteBench
{
    private const string Container = "bench";

    /// <summary>A target's server and the settings that point the app at it.</summary>
    private sealed record Target(string Name, string Executable, Func<int, string, string[]> Arguments, Func<int, Dictionary<string, string?>> Settings);

    private static readonly Target[] Targets =
    [
        new("Azure Blob Storage (Azurite)", "azurite-blob",
            (port, data) => ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--location", data, "--silent", "--skipApiVersionCheck", "--loose"],
            port => new()
            {
                ["Persistence:Offsite:ConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
                ["Persistence:Offsite:Container"] = Container,
            }),
        new("S3 (s3rver)", "s3rver",
            (port, data) => ["--directory", data, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets", "--configure-bucket", Container],
            port => new()
            {
                ["Persistence:Offsite:S3:Bucket"] = Container,
                ["Persistence:Offsite:S3:Endpoint"] = $"http://127.0.0.1:{port}",
                ["Persistence:Offsite:S3:AccessKeyId"] = "S3RVER",
                ["Persistence:Offsite:S3:SecretAccessKey"] = "S3RVER",
                ["Persistence:Offsite:S3:ForcePathStyle"] = "true",
            }),
    ];

    /// <summary>Uploads and downloads a backup of the database at <paramref name="location"/> <paramref name="runs"/> times to each target, taking turns.</summary>
    public static void Run(Func<Dictionary<string, string?>, ServiceProvider> servicesWith, DatabaseLocation location, BackupService backups, double fullBackupSeconds,
        int runs, string directory, Action<string> line, Action settle)
    {
        var inv = CultureInfo.InvariantCulture;
        line("## Copying a backup off the volume (Azurite and s3rver on loopback)");
        line("");
        var missing = Targets.Select(t => Path.Combine(Directory.GetCurrentDirectory(), "node_modules", ".bin", t.Executable)).Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
        {
            line($"Skipped: {string.Join(", ", missing)} missing (run `npm ci` in the repository root).");
            line("");
            return;
        }

        var servers = new List<Process>();
        var providers = new List<ServiceProvider>();
        try
        {
            var stores = StartTargets(servicesWith, location, directory, servers, providers);
            var uploads = stores.ToDictionary(s => s.Target.Name, _ => new List<double>());
            var downloads = stores.ToDictionary(s => s.Target.Name, _ => new List<double>());
            long size = 0;
            for (var run = 0; run < runs; run++)
            {
                foreach (var (target, store, downloader) in run % 2 == 0 ? stores : Enumerable.Reverse(stores))
                {
                    var (upload, download, bytes) = RoundTrip(store, downloader, location, backups, directory, settle);
                    uploads[target.Name].Add(upload);
                    downloads[target.Name].Add(download);
                    size = bytes;
                    Console.WriteLine(string.Create(inv, $"offsite run {run + 1}, {target.Name}: upload {upload:0.00} s, download + verify {download:0.00} s"));
                }
            }

            Report(stores.Select(s => s.Target), uploads, downloads, size, runs, fullBackupSeconds, line);
        }
        finally
        {
            foreach (var provider in providers)
            {
                provider.Dispose();
            }

            foreach (var server in servers)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
                server.Dispose();
            }
        }
    }

    /// <summary>
    /// Starts each target's server on a free port over a fresh data folder, and the app's services pointed at it; what
    /// it starts is added to <paramref name="servers"/> and <paramref name="providers"/> at once, for the caller to stop.
    /// </summary>
    private static List<(Target Target, OffsiteStore Store, BackupDownloader Downloader)> StartTargets(Func<Dictionary<string, string?>, ServiceProvider> servicesWith, DatabaseLocation location, string directory, List<Process> servers, List<ServiceProvider> providers)
    {
        var stores = new List<(Target Target, OffsiteStore Store, BackupDownloader Downloader)>();
        foreach (var target in Targets)
        {
            var data = Path.Combine(directory, $"offsite-{target.Executable}");
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }

            Directory.CreateDirectory(data);
            var port = FreePort();
            servers.Add(StartServer(Path.Combine(Directory.GetCurrentDirectory(), "node_modules", ".bin", target.Executable), target.Arguments(port, data), port));
            var provider = servicesWith(target.Settings(port));
            providers.Add(provider);
            stores.Add((target, provider.GetRequiredService<OffsiteConnector>().For(location)!, provider.GetRequiredService<BackupDownloader>()));
        }

        return stores;
    }

    /// <summary>
    /// A new backup uploaded to the target and downloaded back with its verification, each timed after the machine
    /// settled; the backup is then deleted from both sides. Returns the two times and the backup's size.
    /// </summary>
    private static (double Upload, double Download, long Size) RoundTrip(OffsiteStore store, BackupDownloader downloader, DatabaseLocation location, BackupService backups, string directory, Action settle)
    {
        var manifest = backups.CreateAsync(location, BackupReason.Manual, TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        var entry = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, TimeProvider.System.GetUtcNow()).Verified.First(b => b.Name == manifest.Filename);
        settle();
        var upload = Time(() => store.UploadAsync(entry).GetAwaiter().GetResult());
        var copy = store.ListAsync().GetAwaiter().GetResult().First(b => b.Name == manifest.Filename);
        var downloaded = Path.Combine(directory, "download.sqlite");
        settle();
        var download = Time(() =>
        {
            var verification = downloader.FetchAsync(store, copy, downloaded, IntegrityCheck.Quick).GetAwaiter().GetResult();
            if (!verification.Ok)
            {
                throw new InvalidOperationException(verification.Problem);
            }
        });
        File.Delete(downloaded);
        store.DeleteAsync(manifest.Filename).GetAwaiter().GetResult();
        File.Delete(manifest.BackupPath + BackupNaming.ManifestSuffix);
        File.Delete(manifest.BackupPath);
        return (upload, download, manifest.Size);
    }

    /// <summary>The section's table: per target and step, the median time, the rate and the ratio to the full local backup.</summary>
    private static void Report(IEnumerable<Target> targets, Dictionary<string, List<double>> uploads, Dictionary<string, List<double>> downloads, long size, int runs, double fullBackupSeconds, Action<string> line)
    {
        var inv = CultureInfo.InvariantCulture;
        line("| target | step | time | MiB/s | ratio to the full local backup |");
        line("|---|---|---|---|---|");
        foreach (var target in targets)
        {
            foreach (var (step, samples) in new[] { ("upload (8 MiB parts, 4 in flight, SHA-256 checked before commit, read back)", uploads[target.Name]), ("download + SHA-256 + quick_check (the restore path)", downloads[target.Name]) })
            {
                var stats = new Stats(samples);
                line(string.Create(inv, $"| {target.Name} | {step} | {stats.Describe()} | {size / 1048576.0 / stats.Median:0} | {stats.Median / fullBackupSeconds:0.00}× |"));
            }
        }

        line("");
        line(string.Create(inv, $"A {size >> 20} MiB backup, {runs} runs per target taking turns. Full local verified backup (median above): {fullBackupSeconds:0.000} s. Both servers run on the same 2 cores and write to the same disk, so these are upper bounds for the client's own cost, not a network measurement."));
        line("");
    }

    private static Process StartServer(string executable, string[] arguments, int port)
    {
        var process = Process.Start(new ProcessStartInfo(executable, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"{executable} did not listen on 127.0.0.1:{port} within 30 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static double Time(Action action)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
