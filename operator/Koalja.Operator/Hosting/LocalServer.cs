using Koalja.Core.Spec;
using Koalja.Core.Storage;
using Koalja.Operator.Api;
using Koalja.Operator.Registry;
using Koalja.Operator.Runtime;
using Koalja.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Hosting;

/// <summary>
/// Koalja on one machine: the router, the registry (SQLite), local content-addressed storage, in-process
/// task execution and the HTTP API on 127.0.0.1, all over one data directory.
/// </summary>
public sealed class LocalServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DataDirectory _data;

    private LocalServer(WebApplication app, DataDirectory data, Router router, Uri url)
    {
        _app = app;
        _data = data;
        Router = router;
        Url = url;
    }

    public Uri Url { get; }

    public Router Router { get; }

    public string DataRoot => _data.Root;

    public static async Task<LocalServer> StartAsync(LocalServerOptions options, IReadOnlyList<Pipeline> pipelines, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var data = new DataDirectory(options.DataDirectory);
        try
        {
            data.Lock();
            if (Directory.Exists(data.WorkPath))
            {
                Directory.Delete(data.WorkPath, recursive: true); // left by a crash; executions start again in fresh directories
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            if (logging is not null)
            {
                logging(builder.Logging);
            }

            builder.WebHost.UseKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = null; // drops enforce their own limit while streaming
                k.Listen(System.Net.IPAddress.Loopback, options.Port);
            });
            var store = new LocalArtifactStore(data.BlobsPath);
            var registry = new SqliteRegistry(data.RegistryPath);
            var runtimeOptions = options.Runtime;
            builder.Services.AddSingleton<IArtifactStore>(store);
            builder.Services.AddSingleton(runtimeOptions);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(registry);
            builder.Services.AddSingleton<ITaskRunner>(sp => new TaskRuntime(store,
                new TaskRuntimeOptions { WorkRoot = data.WorkPath, CommandTimeout = runtimeOptions.CommandTimeout }, TimeProvider.System));
            builder.Services.AddSingleton<Router>();
            builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));

            var app = builder.Build();
            app.MapKoaljaApi();
            var router = app.Services.GetRequiredService<Router>();
            router.Start(pipelines);
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
            data.WriteServer(url);
            return new LocalServer(app, data, router, url);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await Router.DisposeAsync();
        await _app.DisposeAsync();
        _data.Dispose();
    }
}
