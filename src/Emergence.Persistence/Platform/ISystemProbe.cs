namespace Emergence.Persistence.Platform;

/// <summary>
/// The one seam through which the library reads its environment: environment variables and the
/// kernel's mount table. Tests substitute their own values; production uses <see cref="SystemProbe"/>.
/// </summary>
public interface ISystemProbe
{
    /// <summary>Returns the value of an environment variable, or <see langword="null"/> when it is unset.</summary>
    string? GetEnvironmentVariable(string name);

    /// <summary>Returns the text of <c>/proc/self/mountinfo</c>, or <see langword="null"/> where the platform has none.</summary>
    string? ReadMountInfo();
}
