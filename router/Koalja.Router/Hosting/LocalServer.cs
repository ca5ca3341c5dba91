using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Api;
using Koalja.Router.Events;
using Koalja.Router.Runtime;
using Koalja.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Hosting;

/// <summary>
/// Koalja on one machine: the router, the registry (SQLite), local content-addressed storage, in-process
/// task execution and the HTTP API on 127.0.0.1, all over one data directory.
/// </summary>
public sealed class LocalServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DataDirectory _data;

    private readonly TaskRuntime _tasks;

    private LocalServer(WebApplication app, DataDirectory data, PipelineRouter router, Uri url, ApiKeys keys, TaskRuntime tasks, IArtifactStore store)
    {
        _tasks = tasks;
        Store = store;
        _app = app;
        _data = data;
        Router = router;
        Url = url;
        Keys = keys;
    }

    public Uri Url { get; }

    /// <summary>The API keys (also in <c>keys.json</c> of the data directory).</summary>
    public ApiKeys Keys { get; }

    public string KeysFile => _data.KeysFile;

    public PipelineRouter Router { get; }

    /// <summary>Where values are stored (the data directory, S3 or Azure Blob).</summary>
    public IArtifactStore Store { get; }

    public string DataRoot => _data.Root;

    public static async Task<LocalServer> StartAsync(LocalServerOptions options, IReadOnlyList<Pipeline> pipelines, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var data = new DataDirectory(options.DataDirectory);
        var owned = new List<object>(); // what a failed start must dispose again
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
                k.Listen(options.ListenAddress, options.Port);
            });
            var store = await StorageSettings.OpenAsync(options.Storage, options.Environment, data.BlobsPath, cancellationToken);
            owned.Add(store);
            var registry = RegistrySettings.Open(options.Registry, options.Environment, data.RegistryPath);
            owned.Add(registry);
            var runtimeOptions = options.Runtime;
            builder.Services.AddSingleton<IArtifactStore>(store);
            builder.Services.AddSingleton(runtimeOptions);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton<Registry.Registry>(registry);
            Uri? publicUrl = null;
            var taskRuntime = new TaskRuntime(store, new TaskRuntimeOptions
            {
                WorkRoot = data.WorkPath,
                CodeRoot = data.CodePath,
                CommandTimeout = runtimeOptions.CommandTimeout,
                ContentUrl = id => publicUrl is null ? null : ValueRecordEvents.ContentUrl(publicUrl, id),
            }, TimeProvider.System);
            owned.Add(taskRuntime);
            builder.Services.AddSingleton<ITaskRunner>(taskRuntime);
            builder.Services.AddSingleton(_ => new DataRefFetcher(runtimeOptions.DataRefTimeout));
            builder.Services.AddSingleton<EventIngress>();
            builder.Services.AddSingleton(taskRuntime.Code);
            builder.Services.AddSingleton<PipelineRouter>();
            builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));

            var keys = data.LoadOrCreateKeys();
            var loopbackOnly = System.Net.IPAddress.IsLoopback(options.ListenAddress);
            var app = builder.Build();
            owned.Insert(0, app);
            app.UseKoaljaSecurity(new ApiSecurityOptions(keys, loopbackOnly, AllowedHosts(options)));
            app.Use(async (http, next) =>
            {
                try
                {
                    await next(http);
                }
                catch (PipelineNotOwnedException e) when (!http.Response.HasStarted)
                {
                    await Problems.Status(StatusCodes.Status503ServiceUnavailable, "The pipeline is run elsewhere", e.Message).ExecuteAsync(http);
                }
            });
            app.MapKoaljaApi();
            var router = app.Services.GetRequiredService<PipelineRouter>();
            router.Start(pipelines);
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
            publicUrl = url;
            data.WriteServer(url);
            return new LocalServer(app, data, router, url, keys, taskRuntime, store);
        }
        catch
        {
            foreach (var resource in owned)
            {
                switch (resource)
                {
                    case IAsyncDisposable asyncDisposable: await asyncDisposable.DisposeAsync(); break;
                    case IDisposable disposable: disposable.Dispose(); break;
                }
            }

            data.Dispose();
            throw;
        }
    }

    /// <summary>Names this server answers to: localhost, loopback, the listen address (all of this machine's for "any"), and configured ones.</summary>
    private static HashSet<string> AllowedHosts(LocalServerOptions options)
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", "127.0.0.1", "::1" };
        if (options.ListenAddress.Equals(System.Net.IPAddress.Any) || options.ListenAddress.Equals(System.Net.IPAddress.IPv6Any))
        {
            hosts.Add(System.Net.Dns.GetHostName().ToLowerInvariant());
            foreach (var address in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address))
            {
                hosts.Add(address.ToString().ToLowerInvariant());
            }
        }
        else
        {
            hosts.Add(options.ListenAddress.ToString().ToLowerInvariant());
        }

        foreach (var host in options.AllowedHosts)
        {
            hosts.Add(host.ToLowerInvariant());
        }

        return hosts;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await Router.DisposeAsync();
        await _app.DisposeAsync();
        (Router.Registry as IDisposable)?.Dispose();
        (Store as IDisposable)?.Dispose();
        _tasks.Dispose();
        _data.Dispose();
    }
}
