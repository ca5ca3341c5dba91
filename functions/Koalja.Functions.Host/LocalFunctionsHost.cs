using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Host;

/// <summary>
/// Runs Azure Functions isolated-worker apps without the Functions host: one Kestrel app on the listen address with
/// two free ports, an HTTP/2 endpoint for the workers' gRPC EventStream and an HTTP/1.1 front door at which
/// <c>POST {BaseUrl(name)}api/{route}</c> reaches worker <c>name</c>'s HTTP-triggered function with that route.
/// Each worker is a <c>dotnet &lt;app&gt;.dll</c> process, restarted when it exits; <see cref="DisposeAsync"/> drains,
/// terminates and kills them. docs/functions-host.md describes the protocol it speaks.
/// </summary>
public sealed partial class LocalFunctionsHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyDictionary<string, WorkerSupervisor> _workers;
    private readonly InFlight _inFlight;
    private readonly FunctionsHostOptions _options;
    private readonly ILogger _log;
    private readonly Uri _frontDoor;
    private int _disposed;

    private LocalFunctionsHost(WebApplication app, IReadOnlyDictionary<string, WorkerSupervisor> workers, InFlight inFlight, FunctionsHostOptions options, ILogger log, Uri frontDoor)
    {
        _app = app;
        _workers = workers;
        _inFlight = inFlight;
        _options = options;
        _log = log;
        _frontDoor = frontDoor;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Starts the host and every worker, and returns once all workers have loaded their functions.</summary>
    /// <exception cref="ArgumentException">A worker spec or an option is not usable; the message lists each problem.</exception>
    /// <exception cref="InvalidOperationException">A worker did not get ready within <see cref="FunctionsHostOptions.StartTimeout"/> (or exited, or refused the handshake); the message names it, the step and what it printed. Nothing is left running.</exception>
    public static async Task<LocalFunctionsHost> StartAsync(IReadOnlyList<WorkerSpec> workers, FunctionsHostOptions options, ILoggerFactory logs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logs);
        var apps = Check(workers, options);
        var rendezvous = new StreamRendezvous();
        var inFlight = new InFlight();
        var supervisors = apps.ToDictionary(a => a.Name, a => new WorkerSupervisor(a, options, rendezvous, logs), StringComparer.Ordinal);
        var log = logs.CreateLogger<LocalFunctionsHost>();
        var door = new FrontDoor(supervisors, inFlight, options, log);
        var listening = new Listening();
        var app = Build(options, rendezvous, logs, door, listening);
        await app.StartAsync(cancellationToken);
        var streamEndpoint = new UriBuilder(Uri.UriSchemeHttp, options.ListenAddress.ToString(), listening.Stream!.IPEndPoint!.Port).Uri;
        door.Port = listening.FrontDoor!.IPEndPoint!.Port;
        var doorAddress = options.FrontDoorEndpoint is { } endpoint && !endpoint.Address.Equals(IPAddress.Any) && !endpoint.Address.Equals(IPAddress.IPv6Any) ? endpoint.Address : options.ListenAddress;
        var host = new LocalFunctionsHost(app, supervisors, inFlight, options, log, new UriBuilder(Uri.UriSchemeHttp, doorAddress.ToString(), door.Port).Uri);
        var starts = supervisors.Values.Select(s => s.StartAsync(streamEndpoint, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            await host.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            var failures = starts.Where(s => s.IsFaulted).SelectMany(s => s.Exception!.InnerExceptions).ToList();
            throw failures.Count == 1 ? failures[0] : new InvalidOperationException(string.Join(Environment.NewLine, failures.Select(f => f.Message)), new AggregateException(failures));
        }

        LogStarted(log, supervisors.Count, host._frontDoor, streamEndpoint);
        return host;
    }

    /// <summary>Where worker <paramref name="workerName"/>'s functions are: <c>http://127.0.0.1:PORT/&lt;name&gt;/</c>; its function with route R is at <c>api/R</c> under it.</summary>
    /// <exception cref="ArgumentException">No worker has that name.</exception>
    public Uri BaseUrl(string workerName) => new(_frontDoor, Worker(workerName).Name + "/");

    /// <summary>The process id of the worker's current process (the one started last: running, or starting in place of one that exited).</summary>
    /// <exception cref="ArgumentException">No worker has that name.</exception>
    /// <exception cref="InvalidOperationException">The worker has no process at the moment (between a failed start and the next, or stopped).</exception>
    public int ProcessId(string workerName) =>
        Worker(workerName).ProcessId ?? throw new InvalidOperationException($"The worker '{workerName}' has no process at the moment.");

    /// <summary>
    /// Stops: new requests are refused (503), invocations in flight are waited for up to
    /// <see cref="FunctionsHostOptions.DrainTimeout"/>, then each worker gets WorkerTerminate and 5 s to exit before it
    /// is killed by PID with its process tree; then the endpoints close.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var idle = _inFlight.StopAsync();
        if (!idle.IsCompleted)
        {
            LogDraining(_log, _inFlight.Count, (long)_options.DrainTimeout.TotalMilliseconds);
            try
            {
                await idle.WaitAsync(_options.DrainTimeout, _options.Time);
            }
            catch (TimeoutException)
            {
                LogDrainTimedOut(_log, _inFlight.Count);
            }
        }

        await Task.WhenAll(_workers.Values.Select(w => w.DisposeAsync().AsTask()));
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private WorkerSupervisor Worker(string workerName) =>
        workerName is not null && _workers.TryGetValue(workerName, out var worker) ? worker
            : throw new ArgumentException($"This host runs no worker named '{workerName}'; it runs {string.Join(", ", _workers.Keys)}.", nameof(workerName));

    /// <summary>The host process is exiting (a normal exit or SIGTERM without DisposeAsync): its workers must not outlive it.</summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        foreach (var worker in _workers.Values)
        {
            worker.Kill();
        }
    }

    private static List<WorkerApp> Check(IReadOnlyList<WorkerSpec> workers, FunctionsHostOptions options)
    {
        var problems = options.Problems().ToList();
        var apps = new List<WorkerApp>();
        foreach (var spec in workers)
        {
            var (app, problem) = WorkerApp.Read(spec);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            else if (apps.Any(a => a.Name == app!.Name))
            {
                problems.Add($"Two workers are named '{app!.Name}'; names must be unique (they are the first segment of the workers' URLs).");
            }
            else
            {
                apps.Add(app!);
            }
        }

        if (options.DefaultWorker is { } main && !workers.Any(w => w?.Name == main))
        {
            problems.Add($"{nameof(FunctionsHostOptions.DefaultWorker)} '{main}' names no worker given.");
        }

        if (workers.Count == 0)
        {
            problems.Add("No workers given: give at least one WorkerSpec.");
        }

        return problems.Count == 0 ? apps : throw new ArgumentException(string.Join(Environment.NewLine, problems), nameof(workers));
    }

    private static WebApplication Build(FunctionsHostOptions options, StreamRendezvous rendezvous, ILoggerFactory logs, FrontDoor door, Listening listening)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 8 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
            kestrel.Listen(options.ListenAddress, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2; // h2c: the workers dial http://
                listening.Stream = listen;
            });
            kestrel.Listen(options.FrontDoorEndpoint ?? new IPEndPoint(options.ListenAddress, 0), listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listening.FrontDoor = listen;
            });
        });
        builder.Services.AddRouting();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = int.MaxValue;
            grpc.MaxSendMessageSize = int.MaxValue;
        });
        builder.Services.AddSingleton(rendezvous);
        builder.Services.Replace(ServiceDescriptor.Singleton(logs));
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.MapGrpcService<EventStreamService>();
        app.Map("/{name}/api/{**route}", (RequestDelegate)door.HandleAsync);
        if (options.DefaultWorker is { } worker)
        {
            app.Map("/api/{**route}", context =>
            {
                context.Request.RouteValues["name"] = worker;
                return door.HandleAsync(context);
            });
        }

        return app;
    }

    /// <summary>The two endpoints, known once Kestrel has bound them (their ports were 0: Kestrel writes the bound ones back).</summary>
    private sealed class Listening
    {
        public ListenOptions? Stream { get; set; }

        public ListenOptions? FrontDoor { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Functions host ready: {Workers} workers, front door {FrontDoor}, worker stream {Stream}")]
    private static partial void LogStarted(ILogger log, int workers, Uri frontDoor, Uri stream);

    [LoggerMessage(Level = LogLevel.Information, Message = "Functions host stopping: waiting up to {DrainMs} ms for {InFlight} invocations in flight")]
    private static partial void LogDraining(ILogger log, int inFlight, long drainMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Functions host stopping: {InFlight} invocations were still running after the drain timeout; their workers are terminated now")]
    private static partial void LogDrainTimedOut(ILogger log, int inFlight);
}
