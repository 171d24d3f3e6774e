using System.Globalization;
using Emergence.Persistence.Configuration;
using Microsoft.Extensions.Configuration;

namespace Emergence.Functions;

/// <summary>Settings of the function app itself (the persistence settings are in <see cref="PersistenceOptions"/>).</summary>
public sealed class FunctionAppOptions
{
    /// <summary>How often the volume is re-inspected at run time by default: once a minute.</summary>
    public const int DefaultVolumeCheckSeconds = 60;

    /// <summary>How long a health report is served from cache by default: a flood of calls costs one disk check per 5 s.</summary>
    public const int DefaultHealthCacheSeconds = 5;

    /// <summary>How often the live database gets a quick_check by default: hourly, like the backups whose own check also counts.</summary>
    public const int DefaultIntegrityCheckSeconds = 3600;

    /// <summary>The setting for <see cref="IntegrityCheckInterval"/>, in seconds (0 turns the periodic check off).</summary>
    public const string IntegrityCheckSecondsKey = "Persistence:IntegrityCheckSeconds";

    /// <summary>The setting for <see cref="VolumeCheckInterval"/>, in seconds.</summary>
    public const string VolumeCheckSecondsKey = "Persistence:VolumeCheckSeconds";

    /// <summary>The setting for <see cref="HealthCacheDuration"/>, in seconds.</summary>
    public const string HealthCacheSecondsKey = "Persistence:HealthCacheSeconds";

    /// <summary>The setting for <see cref="MetricsAnonymous"/>: true or false.</summary>
    public const string MetricsAnonymousKey = "Persistence:Metrics:Anonymous";

    /// <summary>How often the volume is re-inspected while the app runs.</summary>
    public TimeSpan VolumeCheckInterval { get; set; } = TimeSpan.FromSeconds(DefaultVolumeCheckSeconds);

    /// <summary>How often the live database is checked while the app runs (zero: never, beyond backups and startup).</summary>
    public TimeSpan IntegrityCheckInterval { get; set; } = TimeSpan.FromSeconds(DefaultIntegrityCheckSeconds);

    /// <summary>How long a health report is reused.</summary>
    public TimeSpan HealthCacheDuration { get; set; } = TimeSpan.FromSeconds(DefaultHealthCacheSeconds);

    /// <summary>
    /// Whether <c>GET /api/metrics/anonymous</c> answers without a key (default false: it answers 404 and
    /// <c>GET /api/metrics</c>, behind the function key, is the only way to the metrics).
    /// </summary>
    public bool MetricsAnonymous { get; set; }

    /// <summary>Binds the settings present in <paramref name="configuration"/>.</summary>
    /// <exception cref="InvalidSettingException">A value is not a whole number in range.</exception>
    public static void Bind(IConfiguration configuration, FunctionAppOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        options.VolumeCheckInterval = Seconds(configuration, VolumeCheckSecondsKey, 1, 86_400) ?? options.VolumeCheckInterval;
        options.HealthCacheDuration = Seconds(configuration, HealthCacheSecondsKey, 0, 3_600) ?? options.HealthCacheDuration;
        options.IntegrityCheckInterval = Seconds(configuration, IntegrityCheckSecondsKey, 0, 604_800) ?? options.IntegrityCheckInterval;
        options.MetricsAnonymous = Flag(configuration, MetricsAnonymousKey) ?? options.MetricsAnonymous;
    }

    private static bool? Flag(IConfiguration configuration, string key)
    {
        var text = configuration[key];
        if (text is null)
        {
            return null;
        }

        return bool.TryParse(text.Trim(), out var value)
            ? value
            : throw new InvalidSettingException(PersistenceSettings.EnvName(key), text, "expected true or false.");
    }

    private static TimeSpan? Seconds(IConfiguration configuration, string key, int min, int max)
    {
        var text = configuration[key];
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds >= min && seconds <= max
            ? TimeSpan.FromSeconds(seconds)
            : throw new InvalidSettingException(PersistenceSettings.EnvName(key), text, $"expected a whole number of seconds from {min} to {max}.");
    }
}
