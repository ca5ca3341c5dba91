using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Koalja.Core.Spec;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>
/// The operator's control loop: informers on Pipelines, on the Deployments it made (a router becoming available
/// changes the Pipeline's Ready), and on the cluster ConfigMaps a pipeline's objects depend on (domain, storage,
/// services); each change queues the pipelines it concerns, and workers reconcile them
/// (<see cref="PipelineReconciler"/>), a key never twice at once, failures retried with back-off. Every pipeline is
/// queued again each <see cref="OperatorOptions.ResyncPeriod"/>.
/// </summary>
public sealed class PipelineController
{
    private static readonly string[] WatchedConfigMaps =
        [DomainConfig.ConfigMapName, ClusterConfig.ServicesConfigMap, ClusterConfig.S3StorageConfigMap, ClusterConfig.AzureStorageConfigMap];

    private readonly IKubernetes _kube;
    private readonly OperatorOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PipelineReconciler _reconciler;
    private readonly WorkQueue<(string Namespace, string Name)> _queue;
    private readonly Informer _pipelines;
    private readonly List<Informer> _informers = [];
    private long _reconciles;
    private long _failures;

    public PipelineController(IKubernetes kube, OperatorOptions options, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Settings.Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentException("The operator's settings are not usable: " + string.Join("; ", problems), nameof(options));
        }

        _kube = kube;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _reconciler = new PipelineReconciler(kube, options, logger, _time);
        _queue = new WorkQueue<(string, string)>(_time, TimeSpan.FromMilliseconds(500), options.MaxRetryDelay);
        _pipelines = new Informer(PipelineSource(), (_, meta) => _queue.Add((meta.NamespaceProperty, meta.Name)), logger, _time);
        _informers.Add(_pipelines);
        _informers.Add(new Informer(DeploymentSource(), (_, meta) =>
        {
            if (meta.Labels is { } labels && labels.TryGetValue(PipelineManifests.PipelineLabel, out var pipeline))
            {
                _queue.Add((meta.NamespaceProperty, pipeline));
            }
        }, logger, _time));
        foreach (var name in WatchedConfigMaps)
        {
            _informers.Add(new Informer(ConfigMapSource(name), (_, meta) => QueueNamespace(meta.NamespaceProperty), logger, _time));
        }
    }

    /// <summary>Reconciles done (each try counts).</summary>
    public long Reconciles => Interlocked.Read(ref _reconciles);

    /// <summary>Reconciles that failed and were retried.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Lists the Pipeline informer did (1 + one per relist after 410 Gone).</summary>
    public int PipelineLists => _pipelines.Lists;

    /// <summary>Watches of Pipelines started.</summary>
    public int PipelineWatches => _pipelines.Watches;

    /// <summary>Keys waiting.</summary>
    public int Queued => _queue.Count;

    /// <summary>Completes once every informer has listed.</summary>
    public Task Synced => Task.WhenAll(_informers.Select(i => i.Synced));

    /// <summary>Runs until <paramref name="ct"/> is cancelled (leadership lost or shutdown).</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        OperatorLog.Starting(_logger, _options.WatchNamespace is { } only ? $"namespace {only}" : "all namespaces", _options.Workers);
        var tasks = _informers.Select(i => Task.Run(() => i.RunAsync(ct), CancellationToken.None)).ToList();
        tasks.AddRange(Enumerable.Range(0, Math.Max(1, _options.Workers)).Select(_ => Task.Run(() => WorkAsync(ct), CancellationToken.None)));
        tasks.Add(Task.Run(() => ResyncAsync(ct), CancellationToken.None));
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            (string Namespace, string Name) key;
            try
            {
                key = await _queue.TakeAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Interlocked.Increment(ref _reconciles);
                var result = await _reconciler.ReconcileAsync(key.Namespace, key.Name, ct).ConfigureAwait(false);
                _queue.Forget(key);
                if (result.RequeueAfter is { } after)
                {
                    _queue.AddAfter(key, after, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Someone wrote the resource since it was read: read it again, at once.
                OperatorLog.Conflict(_logger, key.Namespace, key.Name);
                Interlocked.Increment(ref _failures);
                _queue.Add(key);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _failures);
                var detail = e is HttpOperationException http ? $"{(int)http.Response.StatusCode} {KubeErrors.Message(http)}" : e.Message;
                OperatorLog.Failed(_logger, key.Namespace, key.Name, detail, _queue.Failures(key) + 1);
                _queue.AddRateLimited(key, ct);
            }
            finally
            {
                _queue.Done(key);
            }
        }
    }

    private async Task ResyncAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.ResyncPeriod, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                foreach (var meta in _pipelines.Known())
                {
                    _queue.Add((meta.NamespaceProperty, meta.Name));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A cluster ConfigMap changed: the pipelines it concerns (its namespace's; every one for the operator's namespace).</summary>
    private void QueueNamespace(string ns)
    {
        foreach (var meta in _pipelines.Known().Where(m => ns == _options.Namespace || m.NamespaceProperty == ns))
        {
            _queue.Add((meta.NamespaceProperty, meta.Name));
        }
    }

    private WatchSource PipelineSource()
    {
        var ns = _options.WatchNamespace;
        return new WatchSource("pipelines",
            async ct =>
            {
                var list = ns is null
                    ? await _kube.CustomObjects.ListClusterCustomObjectAsync<MetaList>(Pipeline.Group, Pipeline.Version, PipelineCrd.Plural, cancellationToken: ct).ConfigureAwait(false)
                    : await _kube.CustomObjects.ListNamespacedCustomObjectAsync<MetaList>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items.Select(i => i.Metadata).ToList(), list.Metadata.ResourceVersion);
            },
            (version, onError, ct) =>
            {
                var response = ns is null
                    ? _kube.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<MetaList>(Pipeline.Group, Pipeline.Version, PipelineCrd.Plural,
                        allowWatchBookmarks: true, resourceVersion: version, timeoutSeconds: WatchTimeout(), watch: true, cancellationToken: ct)
                    : _kube.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<MetaList>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural,
                        allowWatchBookmarks: true, resourceVersion: version, timeoutSeconds: WatchTimeout(), watch: true, cancellationToken: ct);
#pragma warning disable CS0618 // custom objects have no typed WatchList method in KubernetesClient 21; this extension is what the typed ones call
                return Metadata(response.WatchAsync<MetaObject, MetaList>(onError, ct));
#pragma warning restore CS0618
            });
    }

    private WatchSource DeploymentSource()
    {
        var ns = _options.WatchNamespace;
        const string selector = "app.kubernetes.io/managed-by=koalja-operator";
        return new WatchSource("deployments",
            async ct =>
            {
                var list = ns is null
                    ? await _kube.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)
                    : await _kube.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items.Select(i => i.Metadata).ToList(), list.Metadata.ResourceVersion);
            },
            (version, onError, ct) => Metadata(ns is null
                ? _kube.AppsV1.WatchListDeploymentForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version,
                    timeoutSeconds: WatchTimeout(), onError: onError, cancellationToken: ct)
                : _kube.AppsV1.WatchListNamespacedDeploymentAsync(ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version,
                    timeoutSeconds: WatchTimeout(), onError: onError, cancellationToken: ct)));
    }

    private WatchSource ConfigMapSource(string name)
    {
        var field = $"metadata.name={name}";
        return new WatchSource($"configmaps/{name}",
            async ct =>
            {
                var list = await _kube.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: field, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items.Select(i => i.Metadata).ToList(), list.Metadata.ResourceVersion);
            },
            (version, onError, ct) => Metadata(_kube.CoreV1.WatchListConfigMapForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: field,
                resourceVersion: version, timeoutSeconds: WatchTimeout(), onError: onError, cancellationToken: ct)));
    }

    /// <summary>A watch ends after 5–10 minutes (spread, as client-go does) and resumes from the last version: a silently dead connection cannot stall the operator.</summary>
    private static int WatchTimeout() => 300 + Random.Shared.Next(300);

    private static async IAsyncEnumerable<(WatchEventType, V1ObjectMeta)> Metadata<T>(IAsyncEnumerable<(WatchEventType, T)> events)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        await foreach (var (type, obj) in events.ConfigureAwait(false))
        {
            yield return (type, obj?.Metadata!);
        }
    }
}
