namespace Emergence.Persistence.Configuration;

/// <summary>A setting has a value the app cannot use. The message names the setting, the value and what is accepted.</summary>
public sealed class InvalidSettingException : Exception
{
    /// <summary>Creates the exception for one setting.</summary>
    public InvalidSettingException(string setting, string? value, string accepted)
        : base($"Setting {setting}='{value}' is invalid: {accepted}")
    {
        Setting = setting;
        Value = value;
    }

    /// <summary>Creates the exception with a message.</summary>
    public InvalidSettingException(string message) : base(message) => Setting = string.Empty;

    /// <summary>Creates the exception with a message and a cause.</summary>
    public InvalidSettingException(string message, Exception innerException) : base(message, innerException) => Setting = string.Empty;

    /// <summary>Creates the exception with no detail.</summary>
    public InvalidSettingException() => Setting = string.Empty;

    /// <summary>The setting's name as an environment variable, e.g. <c>Persistence__KeepBackups</c>.</summary>
    public string Setting { get; }

    /// <summary>The value that was rejected.</summary>
    public string? Value { get; }
}
