using System.Globalization;

namespace Emergence.Functions.HostTests.Support;

/// <summary>What a container is started with: <c>unshare</c>'s command line through <c>container.sh</c>, and the environment.</summary>
internal static class ContainerCommand
{
    /// <summary><c>unshare</c>'s arguments: new namespaces, <c>container.sh</c> with the spec's layer, volume and copies, then <paramref name="command"/> in <paramref name="environment"/> alone.</summary>
    public static List<string> Arguments(Rehearsal rehearsal, ContainerSpec spec, string state, string name, string startScript, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> command)
    {
        var host = rehearsal.Host!;
        var arguments = new List<string>();
        void Add(params string[] args)
        {
            arguments.AddRange(args);
        }

        Add("--mount", "--pid", "--uts", "--fork", "--kill-child", "--", "/bin/sh", Path.Combine(AppContext.BaseDirectory, "container.sh"), state, name);

        foreach (var directory in spec.LayerDirectories)
        {
            Add("--dir", directory);
        }

        foreach (var directory in spec.ReadOnlyDirectories)
        {
            Add("--read-only-dir", directory);
        }

        if (spec.Volume is { } volume)
        {
            Add("--volume", volume.Device, spec.MountPath);
        }

        if (host.Directory is { } hostDirectory)
        {
            Add("--bind-ro", hostDirectory, FunctionsHost.ImageHostDirectory);
        }

        foreach (var (target, published) in rehearsal.Published)
        {
            Add("--bind-ro", published, target);
        }

        foreach (var (source, target) in rehearsal.Image.ContextCopies)
        {
            Add("--copy", Repository.Path(source), target);
        }

        Add("--copy", startScript, "/opt/startup/start_nonappservice.sh");
        Add("--", "env", "-i");
        foreach (var (key, value) in environment)
        {
            Add($"{key}={value}");
        }

        Add([.. command]);
        return arguments;
    }

    /// <summary>The container's environment: a root shell's basics, the image's ENV, what Railway injects, the spec's variables.</summary>
    public static Dictionary<string, string> Environment(Rehearsal rehearsal, ContainerSpec spec, int port)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = "/root",
        };
        foreach (var (key, value) in rehearsal.Host!.Environment)
        {
            environment[key] = value;
        }

        foreach (var (key, value) in rehearsal.Image.Environment)
        {
            environment[key] = value;
        }

        environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        if (spec.Volume is not null)
        {
            environment["RAILWAY_VOLUME_NAME"] = "rehearsal-volume";
            environment["RAILWAY_VOLUME_MOUNT_PATH"] = spec.MountPath;
        }

        foreach (var (key, value) in spec.Variables)
        {
            if (value is null)
            {
                environment.Remove(key);
            }
            else
            {
                environment[key] = value;
            }
        }

        return environment;
    }
}
