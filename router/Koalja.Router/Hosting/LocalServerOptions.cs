using Koalja.Router.Dispatch;
using Koalja.Router.Runtime;

namespace Koalja.Router.Hosting;

/// <summary>Settings of <c>koalja up</c>.</summary>
public sealed record LocalServerOptions
{
    /// <summary>Holds the registry, the stored content and working directories; a restart with the same directory resumes.</summary>
    public string DataDirectory { get; init; } = ".koalja";

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

    /// <summary>The registry (<see cref="RegistrySettings"/>): null means <c>KOALJA_REGISTRY</c>, else SQLite in the data directory.</summary>
    public string? Registry { get; init; }

    /// <summary>Where values are stored (<c>StorageSettings</c>): null means <c>STORAGETYPE</c> and its variables, else the data directory.</summary>
    public string? Storage { get; init; }

    /// <summary>
    /// Null: tasks run in this process. Else every snapshot goes over HTTP to its task's function app (the cluster's
    /// transport), e.g. the workers of <c>koalja up --task-host functions</c>.
    /// </summary>
    public HttpDispatchOptions? TaskFunctions { get; init; }

    /// <summary>The clock of the router, the dispatchers and the task runtime (tests pass a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Reads environment variables (tests pass their own).</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}
