using System.Net;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>
/// Where each task function's replicas are, read from the Kubernetes API: the ready addresses of a Service's
/// Endpoints, kept current by a list/watch per namespace (<see cref="Informer"/>: resumes, relists on 410). The router
/// of a pipeline in a cluster resolves its task URLs (<c>http://&lt;service&gt;.&lt;namespace&gt;.svc:8080/</c>) with it
/// (<c>koalja up --task-discovery kubernetes</c>) instead of the cluster's DNS: a replica is known the moment it is
/// ready and forgotten the moment it is deleted or fails its readiness probe, with no DNS caching in between, and the
/// cluster needs no DNS server or kube-proxy for Koalja's own traffic. Names that are not Service names are resolved
/// by DNS.
/// </summary>
public sealed partial class TaskEndpoints(IKubernetes kube, ILoggerFactory logs, TimeProvider time) : IAsyncDisposable
{
    private readonly Dictionary<string, (Informer Informer, Task Run)> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Name), IPAddress[]> _ready = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _log = logs.CreateLogger<TaskEndpoints>();

    /// <summary>The ready addresses behind <paramref name="host"/>: a Service's (<c>name.namespace.svc[.domain]</c>) from its Endpoints, any other name's from DNS.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (ServiceName(host) is not { } service)
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }

        await Watched(service.Namespace).Synced.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            return _ready.TryGetValue(service, out var addresses) ? addresses : [];
        }
    }

    /// <summary><c>name.namespace.svc</c>, optionally followed by the cluster's domain (<c>cluster.local</c>): the Service it names.</summary>
    public static (string Namespace, string Name)? ServiceName(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var labels = host.TrimEnd('.').ToLowerInvariant().Split('.');
        return labels.Length >= 3 && labels[2] == "svc" && KubeNames.IsDnsLabel(labels[0]) && KubeNames.IsDnsLabel(labels[1])
            ? (labels[1], labels[0])
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] runs;
        lock (_lock)
        {
            runs = [.. _namespaces.Values.Select(n => n.Run)];
        }

        try
        {
            await Task.WhenAll(runs).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _stop.Dispose();
    }

    private Informer Watched(string ns)
    {
        lock (_lock)
        {
            if (_namespaces.TryGetValue(ns, out var known))
            {
                return known.Informer;
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            var informer = new Informer(Source(ns), (type, meta) => Forget(type, ns, meta), _log, time);
            _namespaces[ns] = (informer, Task.Run(() => informer.RunAsync(_stop.Token)));
            LogWatching(_log, ns);
            return informer;
        }
    }

    private WatchSource Source(string ns) => new($"endpoints/{ns}",
        async ct =>
        {
            var list = await kube.CoreV1.ListNamespacedEndpointsAsync(ns, cancellationToken: ct).ConfigureAwait(false);
            lock (_lock)
            {
                foreach (var key in _ready.Keys.Where(k => k.Namespace == ns).ToList())
                {
                    _ready.Remove(key);
                }

                foreach (var endpoints in list.Items)
                {
                    _ready[(ns, endpoints.Metadata.Name)] = Ready(endpoints);
                }
            }

            return (list.Items.Select(i => i.Metadata).ToList(), list.Metadata.ResourceVersion);
        },
        (version, onError, ct) => Track(ns, kube.CoreV1.WatchListNamespacedEndpointsAsync(ns, allowWatchBookmarks: true, resourceVersion: version,
            timeoutSeconds: 300 + Random.Shared.Next(300), onError: onError, cancellationToken: ct)));

    /// <summary>Each watch event updates the addresses before the informer sees it.</summary>
    private async IAsyncEnumerable<(WatchEventType, V1ObjectMeta)> Track(string ns, IAsyncEnumerable<(WatchEventType, V1Endpoints)> events)
    {
        await foreach (var (type, endpoints) in events.ConfigureAwait(false))
        {
            if (type is WatchEventType.Added or WatchEventType.Modified && endpoints?.Metadata?.Name is { } name)
            {
                var ready = Ready(endpoints);
                lock (_lock)
                {
                    _ready[(ns, name)] = ready;
                }

                LogChanged(_log, ns, name, ready.Length);
            }

            yield return (type, endpoints?.Metadata!);
        }
    }

    private void Forget(WatchEventType type, string ns, V1ObjectMeta meta)
    {
        if (type == WatchEventType.Deleted && meta?.Name is { } name)
        {
            lock (_lock)
            {
                _ready.Remove((ns, name));
            }
        }
    }

    /// <summary>The addresses of ready endpoints (not-ready ones are in <c>notReadyAddresses</c> and are left out), in a stable order.</summary>
    private static IPAddress[] Ready(V1Endpoints endpoints) =>
        [.. (endpoints.Subsets ?? []).SelectMany(s => s.Addresses ?? []).Select(a => IPAddress.TryParse(a.Ip, out var ip) ? ip : null).OfType<IPAddress>()
            .Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching the Endpoints of namespace {Namespace} for task function replicas")]
    private static partial void LogWatching(ILogger log, string @namespace);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Endpoints {Namespace}/{Name}: {Ready} ready")]
    private static partial void LogChanged(ILogger log, string @namespace, string name, int ready);
}
