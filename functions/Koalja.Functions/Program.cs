using Koalja.Functions;
using Koalja.Storage;
using Koalja.Tasks;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The task function: the same task runtime as `koalja up`, composed from the environment the cluster (or the local
// protocol host) sets. A bad setting stops the worker before it serves anything, saying which one and why.
WorkerSettings settings;
IArtifactStore store;
try
{
    settings = WorkerSettings.From(Environment.GetEnvironmentVariable);
    store = await StorageSettings.OpenAsync(settings.Storage, Environment.GetEnvironmentVariable, settings.LocalStorePath);
}
catch (Exception e) when (e is WorkerSettingsException or StorageConfigurationException or StorageUnavailableException)
{
    await Console.Error.WriteLineAsync($"koalja task function: {e.Message}");
    return 2;
}

var builder = FunctionsApplication.CreateBuilder(args);
builder.UseMiddleware<CorrelationMiddleware>();
builder.UseMiddleware<ErrorMiddleware>();
builder.Services
    .AddKoaljaStorage(store)
    .AddKoaljaTaskRuntime(settings.Runtime);
builder.Services.AddSingleton(settings).AddHostedService<HostWatch>();
using var app = builder.Build();
await app.RunAsync();
return 0;
