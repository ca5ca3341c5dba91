using Koalja.Router.Runtime;

namespace Koalja.Router.Hosting;

/// <summary>Settings of <c>koalja up</c>.</summary>
public sealed record LocalServerOptions
{
    /// <summary>Holds the registry, the stored content and working directories; a restart with the same directory resumes.</summary>
    public string DataDirectory { get; init; } = ".koalja";

    /// <summary>
    /// Serve a read-only view of a data directory no server runs on (for <c>koalja values</c>, <c>status</c>, … after it
    /// stopped): the pipelines its registry knows, as they were left. The directory is not locked and nothing is written,
    /// run or dispatched; any request but GET and HEAD is refused. The pipelines passed to
    /// <see cref="LocalServer.StartAsync"/> are ignored, and the keys are the view's own.
    /// </summary>
    public bool InspectOnly { get; init; }

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>
    /// The address to listen on: loopback by default (reading and dropping data need no key then);
    /// any other address makes every request but <c>/healthz</c> need a key.
    /// </summary>
    public System.Net.IPAddress ListenAddress { get; init; } = System.Net.IPAddress.Loopback;

    /// <summary>Host names the server answers to besides localhost and its addresses (e.g. a name in front of it).</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    public RuntimeOptions Runtime { get; init; } = new();

    /// <summary>Variables of the server's environment that commands get besides <see cref="Koalja.Tasks.CommandEnvironment.Passed"/> (<c>--pass-env</c>).</summary>
    public IReadOnlyList<string> PassEnvironment { get; init; } = [];

    /// <summary>
    /// Whether commands run in a sandbox per worker slot (<c>--sandbox</c>): where bubblewrap can make one (the
    /// default), always (the server refuses to start without), or never.
    /// </summary>
    public Koalja.Tasks.Sandboxing.SandboxMode Sandbox { get; init; } = Koalja.Tasks.Sandboxing.SandboxMode.Auto;

    /// <summary>Whether sandboxed commands may use the network (<c>--sandbox-network off</c>: only a loopback of their own, not this server's).</summary>
    public bool SandboxNetwork { get; init; } = true;

    /// <summary>
    /// The port of KEDA's external scaler (gRPC over plaintext HTTP/2, on <see cref="ListenAddress"/>): null serves none,
    /// 0 picks a free port (<see cref="LocalServer.ScalerUrl"/> tells which).
    /// </summary>
    public int? ScalerPort { get; init; }

    /// <summary>The registry (<see cref="RegistrySettings"/>): null means <c>KOALJA_REGISTRY</c>, else SQLite in the data directory.</summary>
    public string? Registry { get; init; }

    /// <summary>Where values are stored (<c>StorageSettings</c>): null means <c>STORAGETYPE</c> and its variables, else the data directory.</summary>
    public string? Storage { get; init; }

    /// <summary>
    /// Where tasks run: in this process, or in one Functions worker process per task under the embedded protocol host,
    /// each snapshot sent over HTTP as in the cluster (<c>--task-host functions</c>).
    /// </summary>
    public LocalTaskHost TaskHost { get; init; } = LocalTaskHost.InProcess;

    /// <summary>The built task function app for <see cref="LocalTaskHost.Functions"/> (null: found as <see cref="LocalFunctionWorkers.FindApp"/> says).</summary>
    public string? FunctionsApp { get; init; }

    /// <summary>
    /// For <see cref="LocalTaskHost.Remote"/>: where each task's function listens, by pipeline and task. Each name is
    /// resolved to its replicas' addresses (a headless Service's name gives one per ready pod) and each snapshot goes
    /// to the least busy one.
    /// </summary>
    public IReadOnlyDictionary<(string Pipeline, string Task), Uri> TaskUrls { get; init; } = new Dictionary<(string Pipeline, string Task), Uri>();

    /// <summary>
    /// For <see cref="LocalTaskHost.Remote"/>: how a task URL's host name becomes its replicas' addresses. Null: DNS (a
    /// headless Service's name gives one address per ready pod); in a cluster the router reads the Services' Endpoints
    /// instead (<c>--task-discovery kubernetes</c>).
    /// </summary>
    public Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? ResolveReplicas { get; init; }

    /// <summary>The clock of the router, the dispatchers and the task runtime (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Reads environment variables (tests pass their own).</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>Where <c>koalja up</c> runs tasks.</summary>
public enum LocalTaskHost
{
    /// <summary>In the server's process, through the task contract's bytes.</summary>
    InProcess,

    /// <summary>In Functions worker processes (the task function app), one per task, reached over HTTP.</summary>
    Functions,

    /// <summary>In task functions running elsewhere (the cluster's task Deployments), reached over HTTP at <see cref="LocalServerOptions.TaskUrls"/>.</summary>
    Remote,
}
