using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Api;
using Koalja.Router.Dispatch;
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

    private LocalServer(WebApplication app, DataDirectory data, Uri url, ApiKeys keys)
    {
        _app = app;
        _data = data;
        Url = url;
        Keys = keys;
        Router = app.Services.GetRequiredService<PipelineRouter>();
        Store = app.Services.GetRequiredService<IArtifactStore>();
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
        ArgumentNullException.ThrowIfNull(options);
        var data = new DataDirectory(options.DataDirectory);
        IArtifactStore? store = null;
        WebApplication? app = null;
        try
        {
            data.Lock();
            if (Directory.Exists(data.WorkPath))
            {
                Directory.Delete(data.WorkPath, recursive: true); // left by a crash; executions start again in fresh directories
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            logging?.Invoke(builder.Logging);
            builder.WebHost.UseKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = null; // drops enforce their own limit while streaming
                k.Listen(options.ListenAddress, options.Port);
            });
            store = await StorageSettings.OpenAsync(options.Storage, options.Environment, data.BlobsPath, cancellationToken);
            Uri? publicUrl = null;
            builder.Services.AddSingleton(options.Time)
                .AddKoaljaStorage(store)
                .AddKoaljaRegistry(options.Registry, options.Environment, data.RegistryPath)
                .AddKoaljaTaskRuntime(new TaskRuntimeOptions
                {
                    WorkRoot = data.WorkPath,
                    CodeRoot = data.CodePath,
                    CommandTimeout = options.Runtime.CommandTimeout,
                    ContentUrl = id => publicUrl is null ? null : ValueRecordEvents.ContentUrl(publicUrl, id),
                })
                .AddKoaljaRouter(options.Runtime, pipelines);
            if (options.TaskFunctions is { } functions)
            {
                builder.Services.AddKoaljaHttpDispatch(functions);
            }

            app = builder.Build();
            store = null; // the host owns it now

            var keys = data.LoadOrCreateKeys();
            app.UseKoaljaSecurity(new ApiSecurityOptions(keys, System.Net.IPAddress.IsLoopback(options.ListenAddress), AllowedHosts(options)));
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
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
            publicUrl = url;
            data.WriteServer(url);
            return new LocalServer(app, data, url, keys);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync(); // what the host made (registry, router, task runtime, store) goes with it
            }

            (store as IDisposable)?.Dispose();
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
        await _app.DisposeAsync();
        _data.Dispose();
    }
}
