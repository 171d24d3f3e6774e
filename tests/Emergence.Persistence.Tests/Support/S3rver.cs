using System.Diagnostics;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// A real S3 server, s3rver, on 127.0.0.1, from the project's own <c>package.json</c> (<c>npm ci</c>), with its data
/// in a temp directory and one bucket made at startup. It checks SigV4 signatures and supports multipart uploads; it
/// ignores <c>If-None-Match</c> on writes (conditional creation is tested against <c>StrictObjectStore</c>).
/// It can be killed and started again on the same port and data, to cut the store off mid-operation.
/// </summary>
public sealed class S3rver : IDisposable
{
    /// <summary>s3rver's fixed credentials (public, documented by s3rver).</summary>
    public const string AccessKeyId = "S3RVER";

    /// <summary>s3rver's fixed secret (public, documented by s3rver).</summary>
    public const string SecretAccessKey = "S3RVER";

    private readonly string _executable;
    private Process? _process;

    private S3rver(string executable, string bucket)
    {
        _executable = executable;
        Bucket = bucket;
        Location = Directory.CreateTempSubdirectory("emergence-s3rver-").FullName;
        Port = Azurite.FreePort();
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>The bucket made at startup.</summary>
    public string Bucket { get; }

    /// <summary>Its data directory.</summary>
    public string Location { get; }

    /// <summary>The endpoint to give <c>Persistence__Offsite__S3__Endpoint</c>.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Starts an instance. Skips the test when s3rver is not installed (run <c>npm ci</c>), except under CI=true,
    /// where the suite must not silently lose its storage tests: fails instead.
    /// </summary>
    public static S3rver Start(string bucket)
    {
        var executable = LoopbackServer.Installed("s3rver", Path.Combine(Azurite.RepositoryRoot(), "node_modules", ".bin", "s3rver"));

        var server = new S3rver(executable, bucket);
        server.Resume();
        return server;
    }

    /// <summary>Starts (again) on the same port and data directory, and waits until it accepts connections.</summary>
    public void Resume()
    {
        _process = LoopbackServer.Start("s3rver", _executable, new[] { "--directory", Location, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets", "--configure-bucket", Bucket }, Port);
    }

    /// <summary>Kills the server (SIGKILL): requests in flight fail, later connections are refused.</summary>
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
}
