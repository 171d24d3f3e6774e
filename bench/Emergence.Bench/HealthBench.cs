using System.Diagnostics;
using System.Globalization;
using Emergence.Functions.Functions;
using Emergence.Functions.Startup;
using Emergence.Persistence.Database;
using Emergence.Persistence.Startup;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Emergence.Bench;

/// <summary>The health function answering from its cached report.</summary>
internal static class HealthBench
{
    private const int Calls = 10_000;

    public static void Run(ServiceProvider services, DatabaseLocation location, Action<string> line)
    {
        var state = services.GetRequiredService<StartupState>();
        state.Complete(new StartupResult { Location = location });
        var function = ActivatorUtilities.CreateInstance<HealthFunction>(services);
        function.Run(new DefaultHttpContext().Request).GetAwaiter().GetResult();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
        {
            function.Run(new DefaultHttpContext().Request).GetAwaiter().GetResult();
        }

        line("## Health function");
        line("");
        line(string.Create(CultureInfo.InvariantCulture, $"{Calls} calls from the cached report: {watch.Elapsed.TotalMilliseconds / Calls * 1000:0.0} µs per call (serialization included)."));
        line("");
    }
}
