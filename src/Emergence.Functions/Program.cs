using Emergence.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Logging.AddEmergenceConsole();
builder.Services.AddEmergencePersistence(builder.Configuration);
builder.Services.AddEmergenceTelemetry(builder.Configuration);
builder.Services.AddEmergenceFunctionApp(builder.Configuration);
builder.Build().Run();
