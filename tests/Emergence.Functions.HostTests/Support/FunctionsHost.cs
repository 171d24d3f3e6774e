using System.Security.Cryptography;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// A Functions host to run the published app under, and the script that starts it in the container
/// in place of the base image's <c>/opt/startup/start_nonappservice.sh</c> (which <c>deploy/start.sh</c>
/// hands over to). Found, in this order: <c>FUNCTIONS_HOST_DIR</c>, a folder holding
/// <c>Microsoft.Azure.WebJobs.Script.WebHost.dll</c>; the host built from source,
/// <c>../shared/functions-host/host-*.tgz</c> beside the repository, unpacked once into a cache keyed
/// by its SHA-256; Core Tools' <c>func</c> on PATH.
/// </summary>
public sealed class FunctionsHost
{
    public const string HostDll = "Microsoft.Azure.WebJobs.Script.WebHost.dll";

    /// <summary>Where the image keeps its host; the container mounts the found one there.</summary>
    public const string ImageHostDirectory = "/azure-functions-host";

    private FunctionsHost(string description, string? directory, string startScript, bool enforcesKeys)
    {
        Description = description;
        Directory = directory;
        StartScript = startScript;
        EnforcesKeys = enforcesKeys;
    }

    /// <summary>Which host this is, for messages.</summary>
    public string Description { get; }

    /// <summary>The host's folder, mounted read-only at <see cref="ImageHostDirectory"/>; null for Core Tools.</summary>
    public string? Directory { get; }

    /// <summary>The text of the start script the container runs after <c>deploy/start.sh</c>.</summary>
    public string StartScript { get; }

    /// <summary>Whether function keys are enforced (Core Tools turns authorization off).</summary>
    public bool EnforcesKeys { get; }

    /// <summary>The environment the host needs beyond the image's (the source-built host targets net8.0; this machine has .NET 10).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        Directory is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["DOTNET_ROLL_FORWARD"] = "Major" };

    /// <summary>Finds a host, or says why there is none.</summary>
    public static FunctionsHost? Find(out string whyNot)
    {
        var configured = System.Environment.GetEnvironmentVariable("FUNCTIONS_HOST_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            if (!File.Exists(Path.Combine(configured, HostDll)))
            {
                whyNot = $"FUNCTIONS_HOST_DIR={configured} holds no {HostDll}";
                return null;
            }

            whyNot = "";
            return WebHost($"the host in FUNCTIONS_HOST_DIR={configured}", configured);
        }

        var shared = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "functions-host"));
        var archive = System.IO.Directory.Exists(shared)
            ? System.IO.Directory.GetFiles(shared, "host-*.tgz").Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        if (archive is not null)
        {
            whyNot = "";
            return WebHost($"the host unpacked from {archive}", Unpack(archive));
        }

        if (Commands.Exists("func"))
        {
            whyNot = "";
            return new FunctionsHost("Core Tools (func on PATH)", null,
                "#!/bin/sh\n# Core Tools in place of the image's host.\n" +
                "exec func start --script-root \"$AzureWebJobsScriptRoot\" --port \"${ASPNETCORE_URLS##*:}\"\n",
                enforcesKeys: false);
        }

        whyNot = $"no Functions host: set FUNCTIONS_HOST_DIR, put host-*.tgz in {shared}, or install Core Tools (func)";
        return null;
    }

    private static FunctionsHost WebHost(string description, string directory) => new(description, directory,
        "#!/bin/sh\n# Starts the host from where the image keeps it, as the base image's start script does.\n" +
        $"exec dotnet {ImageHostDirectory}/{HostDll}\n",
        enforcesKeys: true);

    /// <summary>Unpacks the archive once into ~/.cache/emergence/functions-host/SHA256 and returns its host folder.</summary>
    private static string Unpack(string archive)
    {
        string sha256;
        using (var stream = File.OpenRead(archive))
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        var cacheRoot = System.Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache");
        var target = Path.Combine(cacheRoot, "emergence", "functions-host", sha256);
        var host = Path.Combine(target, "host");
        if (File.Exists(Path.Combine(host, HostDll)))
        {
            return host;
        }

        // Unpack beside the target and rename, so a run cut short never leaves a half-unpacked cache.
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var partial = target + ".partial-" + System.Environment.ProcessId;
        System.IO.Directory.CreateDirectory(partial);
        Commands.Check("tar", "-xzf", archive, "-C", partial);
        if (!File.Exists(Path.Combine(partial, "host", HostDll)))
        {
            System.IO.Directory.Delete(partial, recursive: true);
            throw new InvalidOperationException($"{archive} holds no host/{HostDll}");
        }

        try
        {
            System.IO.Directory.Move(partial, target);
        }
        catch (IOException) when (File.Exists(Path.Combine(host, HostDll)))
        {
            System.IO.Directory.Delete(partial, recursive: true); // another run unpacked it first
        }

        return host;
    }
}
