using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Emergence.Persistence.Tests.Support;

namespace Emergence.Functions.HostTests.Support;

/// <summary>
/// One container of the service, as Railway runs the image: the Dockerfile's ENV and CMD
/// (<c>/opt/emergence/start.sh</c>, which hands over to the host), the published app at
/// <c>/home/site/wwwroot</c>, the volume mounted at its path, <c>PORT</c> set, in its own mount, PID
/// and UTS namespaces (see <c>container.sh</c>). Stopped the way Railway stops it: SIGTERM, then
/// SIGKILL after <c>drainingSeconds</c>; killing its first process ends every process in it.
/// </summary>
public sealed class Container : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<Container, byte> Live = new();
    private static int _count;

    private readonly Process _process;

    private readonly IReadOnlyDictionary<string, string> _environment;

    private Container(Process process, string name, int port, ConsoleOutput output, IReadOnlyDictionary<string, string> environment)
    {
        _process = process;
        _environment = environment;
        Name = name;
        Port = port;
        Output = output;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        HostPid = FindChild(process.Id);
        Live[this] = 0;
    }

    /// <summary>The container's host name (the volume lock names its holder by it).</summary>
    public string Name { get; }

    public int Port { get; }

    /// <summary>The container's first process (the Functions host once the start scripts exec it), as the machine sees it.</summary>
    public int HostPid { get; }

    public ConsoleOutput Output { get; }

    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts a container running the image's CMD.</summary>
    public static Container Start(Rehearsal rehearsal, ContainerSpec spec)
    {
        var name = "rehearsal-" + Interlocked.Increment(ref _count).ToString(CultureInfo.InvariantCulture);
        var port = FreePort();
        var output = new ConsoleOutput();
        var environment = ContainerCommand.Environment(rehearsal, spec, port);
        var process = Launch(rehearsal, spec, name, environment, rehearsal.Image.Command, output);
        return new Container(process, name, port, output, environment);
    }

    /// <summary>Runs one command in a fresh container with the spec's volume, to its end (e.g. sqlite3 on the volume between deploys).</summary>
    public static (int Exit, string Output) Run(Rehearsal rehearsal, ContainerSpec spec, params string[] command)
    {
        var output = new ConsoleOutput();
        using var process = Launch(rehearsal, spec, "rehearsal-shell", ContainerCommand.Environment(rehearsal, spec, FreePort()), command, output);
        process.WaitForExit();
        return (process.ExitCode, output.Text);
    }

    /// <summary>
    /// Runs a command inside this running container with the container's variables (as a <c>railway ssh</c>
    /// session has them), returning its exit code and output.
    /// </summary>
    public (int Exit, string Output, string Error) Exec(params string[] command) =>
        Shell.Run("nsenter", ["--target", HostPid.ToString(CultureInfo.InvariantCulture), "--mount", "--uts", "--pid", "--root", "--wd", "--",
            "env", "-i", .. _environment.Select(pair => $"{pair.Key}={pair.Value}"), .. command]);

    /// <summary>Runs a command inside this container and returns its output, failing the test when it fails.</summary>
    public string ExecChecked(params string[] command)
    {
        var (exit, output, error) = Exec(command);
        Assert.True(exit == 0, $"{string.Join(' ', command)} exited {exit} in {Name}: {error}{output}");
        return output;
    }

    /// <summary>
    /// Railway's deploy healthcheck: polls <see cref="RailwayDeploy.HealthcheckPath"/> once a second
    /// until it answers 200 (the deploy goes live) or the time is up or the container exited (the deploy fails).
    /// </summary>
    public async Task<Healthcheck> HealthcheckAsync(TimeSpan timeout)
    {
        var polls = new List<int>();
        var started = Stopwatch.StartNew();
        string? body = null;
        while (started.Elapsed < timeout && !HasExited)
        {
            try
            {
                using var response = await Http.GetAsync(RailwayDeploy.HealthcheckPath.TrimStart('/')).ConfigureAwait(false);
                body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                polls.Add((int)response.StatusCode);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return new Healthcheck(true, polls, started.Elapsed, body);
                }
            }
            catch (HttpRequestException)
            {
                polls.Add(0); // not listening yet
            }

            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }

        return new Healthcheck(false, polls, started.Elapsed, body);
    }

    /// <summary>Waits for the deploy healthcheck to pass within railway.toml's timeout, or fails with the console.</summary>
    public async Task<Healthcheck> DeployedAsync()
    {
        var check = await HealthcheckAsync(RailwayDeploy.HealthcheckTimeout).ConfigureAwait(false);
        Assert.True(check.Passed, $"{Name}: the healthcheck did not pass ({check}); the console said:\n{Output.Tail()}");
        return check;
    }

    /// <summary>Railway's stop: SIGTERM, then SIGKILL once <c>drainingSeconds</c> are up. Returns whether it exited by itself.</summary>
    public async Task<bool> StopAsync()
    {
        if (HasExited)
        {
            return true;
        }

        Commands.Signal(HostPid, "TERM");
        using var draining = new CancellationTokenSource(RailwayDeploy.DrainingTime);
        try
        {
            await _process.WaitForExitAsync(draining.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>SIGKILL, as a crash or an out-of-memory kill would end the container.</summary>
    public async Task KillAsync()
    {
        if (!HasExited)
        {
            Commands.Signal(HostPid, "KILL");
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        Live.TryRemove(this, out _);
        Http.Dispose();
        _process.Dispose();
    }

    /// <summary>Ends every container still running (the run is over or was cut short).</summary>
    internal static void KillAll()
    {
        foreach (var container in Live.Keys)
        {
            if (!container.HasExited)
            {
                Commands.Signal(container.HostPid, "KILL");
                container._process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
    }

    private static Process Launch(Rehearsal rehearsal, ContainerSpec spec, string name, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string> command, ConsoleOutput output)
    {
        var host = rehearsal.Host!;
        var state = rehearsal.NewDirectory(name);
        var startScript = Path.Combine(state, "start_nonappservice.sh");
        File.WriteAllText(startScript, host.StartScript);

        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in ContainerCommand.Arguments(rehearsal, spec, state, name, startScript, environment, command))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Add(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The container's first process: the one child of <c>unshare --fork</c>.</summary>
    private static int FindChild(int parent)
    {
        var children = $"/proc/{parent}/task/{parent}/children";
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var text = File.Exists(children) ? File.ReadAllText(children).Trim() : "";
            if (text.Length > 0)
            {
                return int.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
            }

            Thread.Sleep(10);
        }

        throw new InvalidOperationException($"unshare ({parent}) started no container process");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
