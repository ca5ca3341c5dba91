using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Api;
using Koalja.Router.Dispatch;
using Koalja.Router.Events;
using Koalja.Router.Runtime;
using Koalja.Router.Scaling;
using Koalja.Tasks;
using Koalja.Tasks.Sandboxing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
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

    private readonly LocalFunctionWorkers.LocalWorkers? _workers;
    private readonly ILoggerFactory? _workerLogs;

    private LocalServer(WebApplication app, DataDirectory data, Uri url, Uri? scalerUrl, ApiKeys keys, LocalFunctionWorkers.LocalWorkers? workers, ILoggerFactory? workerLogs)
    {
        ScalerUrl = scalerUrl;
        _app = app;
        _data = data;
        _workers = workers;
        _workerLogs = workerLogs;
        Url = url;
        Keys = keys;
        Router = app.Services.GetRequiredService<PipelineRouter>();
        Store = app.Services.GetRequiredService<IArtifactStore>();
    }

    public Uri Url { get; }

    /// <summary>How the commands of this server's tasks are isolated (null: they run elsewhere, <see cref="LocalTaskHost.Remote"/>).</summary>
    public CommandIsolation? Isolation { get; private init; }

    /// <summary>Where KEDA's external scaler listens (h2c), or null when <see cref="LocalServerOptions.ScalerPort"/> is not set.</summary>
    public Uri? ScalerUrl { get; }

    /// <summary>The API keys (also in <c>keys.json</c> of the data directory).</summary>
    public ApiKeys Keys { get; }

    public string KeysFile => _data.KeysFile;

    public PipelineRouter Router { get; }

    /// <summary>Where values are stored (the data directory, S3 or Azure Blob).</summary>
    public IArtifactStore Store { get; }

    public string DataRoot => _data.Root;

    /// <summary>The server's services: the HTTP fuzz test reads the route table from them, so that no endpoint escapes it.</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>The task function workers (<see cref="LocalTaskHost.Functions"/>), by name, with their current process; null when tasks run in process.</summary>
    public IReadOnlyList<(string Name, int ProcessId)>? Workers =>
        _workers is { } w ? w.Names.Values.Order(StringComparer.Ordinal).Select(n => (n, w.Host.ProcessId(n))).ToList() : null;

    /// <summary>The process that runs a task's snapshots now (<see cref="LocalTaskHost.Functions"/>; a worker that died is replaced).</summary>
    public int WorkerProcessId(string pipeline, string task) =>
        _workers is { } w ? w.Host.ProcessId(w.Names[(pipeline, task)]) : throw new InvalidOperationException("Tasks run in process here.");

    public static async Task<LocalServer> StartAsync(LocalServerOptions options, IReadOnlyList<Pipeline> pipelines, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var data = new DataDirectory(options.DataDirectory);
        IArtifactStore? store = null;
        WebApplication? app = null;
        LocalFunctionWorkers.LocalWorkers? workers = null;
        ILoggerFactory? workerLogs = null;
        try
        {
            if (options.InspectOnly)
            {
                options = options with { TaskHost = LocalTaskHost.InProcess, ScalerPort = null };
            }

            var functionsApp = options.TaskHost == LocalTaskHost.Functions ? LocalFunctionWorkers.FindApp(options.FunctionsApp) : null;
            if (functionsApp is not null && options.Port == 0)
            {
                options = options with { Port = FreePort(options.ListenAddress) }; // the workers are told the router's URL before it listens
            }

            var scalerPort = options.ScalerPort is { } askedPort ? askedPort == 0 ? FreePort(options.ListenAddress) : askedPort : (int?)null;
            if (!options.InspectOnly)
            {
                data.Lock();
            }

            if (!options.InspectOnly && Directory.Exists(data.WorkPath))
            {
                // left by a crash; executions start again in fresh directories (the folder itself stays: it may be a mount point)
                // (by bytes: a command may have named a file in a way .NET cannot, see FileTrees)
                foreach (var entry in new DirectoryInfo(data.WorkPath).EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo { LinkTarget: null } folder)
                    {
                        FileTrees.Remove(folder.FullName);
                    }
                    else
                    {
                        entry.Delete();
                    }
                }
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            logging?.Invoke(builder.Logging);
            builder.WebHost.UseKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = null; // drops enforce their own limit while streaming
                k.Listen(options.ListenAddress, options.Port);
                if (scalerPort is { } port)
                {
                    k.Listen(options.ListenAddress, port, listen => listen.Protocols = HttpProtocols.Http2); // KEDA speaks h2c
                }
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
                    PassEnvironment = options.PassEnvironment,
                    Sandbox = options.Sandbox,
                    SandboxNetwork = options.SandboxNetwork,
                    SandboxHides = [data.Root], // the registry, the keys, the blobs, other tasks' work: none of a command's business
                    ContentUrl = id => publicUrl is null ? null : ValueRecordEvents.ContentUrl(publicUrl, id),
                })
                .AddKoaljaRouter(options.Runtime, pipelines, options.InspectOnly)
                .Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // a parameter that cannot be bound says which (ErrorAnswers)
            if (scalerPort is not null)
            {
                builder.Services.AddKoaljaScaler();
            }

            if (functionsApp is not null)
            {
                workerLogs = LoggerFactory.Create(b => logging?.Invoke(b));
                var routerHost = options.ListenAddress.Equals(System.Net.IPAddress.Any) || options.ListenAddress.Equals(System.Net.IPAddress.IPv6Any) ? "127.0.0.1" : options.ListenAddress.ToString();
                var routerUrl = new UriBuilder(Uri.UriSchemeHttp, routerHost, options.Port).Uri; // brackets an IPv6 address
                workers = await LocalFunctionWorkers.StartAsync(functionsApp, pipelines, options, data, routerUrl, workerLogs, cancellationToken);
                if (workers is not null)
                {
                    builder.Services.AddKoaljaHttpDispatch(workers.Dispatch);
                }
            }

            if (options.TaskHost == LocalTaskHost.Remote)
            {
                builder.Services.AddKoaljaHttpDispatch(RemoteDispatch(options, pipelines));
            }

            app = builder.Build();
            store = null; // the host owns it now

            var keys = options.InspectOnly ? ApiKeys.Create() : data.LoadOrCreateKeys();
            if (scalerPort is { } servedPort)
            {
                app.MapKoaljaScaler(servedPort);
            }

            app.UseKoaljaErrorAnswers();
            app.UseKoaljaSecurity(new ApiSecurityOptions(keys, System.Net.IPAddress.IsLoopback(options.ListenAddress), AllowedHosts(options)));
            if (options.InspectOnly)
            {
                app.Use(async (http, next) =>
                {
                    if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
                    {
                        await Problems.Status(StatusCodes.Status503ServiceUnavailable, "No server runs on this data directory",
                            $"This is a read-only view of {data.Root}; start a server on it (koalja up) to change anything.").ExecuteAsync(http);
                        return;
                    }

                    await next(http);
                });
            }

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
            // Made now, so that a sandbox that is required but cannot be made stops the start, with why.
            var isolation = options.TaskHost == LocalTaskHost.Remote ? null : app.Services.GetRequiredService<TaskRuntime>().Isolation;
            await app.StartAsync(cancellationToken);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                // A server on every interface (0.0.0.0, [::]) is reached on this machine at the loopback address: that is what clients read in server.json.
                .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("//0.0.0.0:", "//127.0.0.1:", StringComparison.Ordinal))).ToList();
            var url = addresses.First(a => a.Port != scalerPort);
            var scalerUrl = scalerPort is { } p ? addresses.First(a => a.Port == p) : null;
            publicUrl = url;
            if (!options.InspectOnly)
            {
                data.WriteServer(url);
            }

            return new LocalServer(app, data, url, scalerUrl, keys, workers, workerLogs) { Isolation = isolation };
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync(); // what the host made (registry, router, task runtime, store) goes with it
            }

            (store as IDisposable)?.Dispose();
            if (workers is not null)
            {
                await workers.Host.DisposeAsync();
            }

            workerLogs?.Dispose();
            data.Dispose();
            throw;
        }
    }

    /// <summary>The HTTP dispatcher to task functions elsewhere: every task with inputs needs its absolute http(s) URL.</summary>
    /// <exception cref="InvalidOperationException">A task has no URL, or a URL is not absolute http(s); the message names each.</exception>
    private static HttpDispatchOptions RemoteDispatch(LocalServerOptions options, IReadOnlyList<Pipeline> pipelines)
    {
        var problems = new List<string>();
        foreach (var pipeline in pipelines)
        {
            foreach (var task in pipeline.Spec.Tasks.Where(t => t.SnapshotInputs.Any()))
            {
                if (!options.TaskUrls.TryGetValue((pipeline.Name, task.Name), out var url))
                {
                    problems.Add($"{pipeline.Name}/{task.Name} has no task function URL");
                }
                else if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    problems.Add($"{pipeline.Name}/{task.Name}: '{url}' is not an absolute http(s) URL");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("--task-host remote needs a task function URL for every task with inputs (--task-urls): " + string.Join("; ", problems));
        }

        var urls = options.TaskUrls.ToDictionary(p => p.Key, p => p.Value.AbsoluteUri.EndsWith('/') ? p.Value : new Uri(p.Value.AbsoluteUri + "/"));
        return new HttpDispatchOptions
        {
            FunctionUrl = (pipeline, task) => urls[(pipeline, task)],
            ResolveReplicas = options.ResolveReplicas ?? System.Net.Dns.GetHostAddressesAsync,
        };
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
        await _app.StopAsync(); // the dispatchers stop sending before the workers go
        await _app.DisposeAsync();
        if (_workers is not null)
        {
            await _workers.Host.DisposeAsync();
        }

        _workerLogs?.Dispose();
        _data.Dispose();
    }

    private static int FreePort(System.Net.IPAddress address)
    {
        using var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
