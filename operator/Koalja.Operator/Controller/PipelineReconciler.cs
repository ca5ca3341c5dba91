using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>What a reconcile asks of the queue: nothing more, or another look after a while.</summary>
internal readonly record struct ReconcileResult(TimeSpan? RequeueAfter)
{
    public static ReconcileResult Done => new(null);

    public static ReconcileResult After(TimeSpan delay) => new(delay);
}

/// <summary>
/// Brings one <c>Pipeline</c> resource's world to what its spec asks, from scratch each time (level-triggered,
/// idempotent): reads the resource, validates it as <c>koalja validate</c> does, builds the desired objects
/// (<see cref="PipelineManifests"/>) with the cluster's domain, storage and registry configuration, applies them
/// server-side, deletes what it made earlier and no longer wants, and writes <c>status</c> (<c>Valid</c> and
/// <c>Ready</c> conditions, <c>observedGeneration</c>, the URL). A resource being deleted has its objects torn down
/// in order (ScaledObjects and ingresses first) before the finalizer goes. Bad input never throws: it becomes a
/// condition; only the API server's failures do, and the queue retries them with back-off.
/// </summary>
internal sealed class PipelineReconciler(IKubernetes kube, OperatorOptions options, ILogger logger, TimeProvider time)
{
    public const string Finalizer = "koalja.aljabr.io/teardown";

    /// <summary>How often a pipeline whose router is not yet available is looked at again (its Deployment's watch usually comes first).</summary>
    private static readonly TimeSpan WaitingRecheck = TimeSpan.FromSeconds(30);

    public async Task<ReconcileResult> ReconcileAsync(string ns, string name, CancellationToken ct)
    {
        JsonElement resource;
        try
        {
            resource = await kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return ReconcileResult.Done; // gone; its objects went with it (owner references)
        }

        var meta = resource.TryGetProperty("metadata", out var m) ? KubernetesJson.Deserialize<V1ObjectMeta>(m.GetRawText()) : new V1ObjectMeta();
        if (meta.DeletionTimestamp is not null)
        {
            return await TearDownAsync(ns, name, meta, ct).ConfigureAwait(false);
        }

        if (!(meta.Finalizers?.Contains(Finalizer) ?? false))
        {
            await PatchFinalizersAsync(ns, name, meta, [.. meta.Finalizers ?? [], Finalizer], ct).ConfigureAwait(false);
        }

        var status = resource.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Object ? JsonNode.Parse(s.GetRawText())!.AsObject() : new JsonObject();
        var generation = meta.Generation ?? 0;
        var loaded = PipelineLoader.LoadText(resource.GetRawText(), $"{ns}/{name}");
        var problems = loaded.Errors.Select(Describe).ToList();
        if (loaded.Succeeded && loaded.Pipelines.Count == 1 && !KubeNames.IsDnsLabel(name))
        {
            problems.Add($"the pipeline's name '{name}' must be a DNS-1123 label (lower-case letters, digits and '-'), as its objects' names derive from it");
        }

        if (problems.Count > 0 || loaded.Pipelines.Count != 1)
        {
            var described = string.Join("\n", problems.DefaultIfEmpty("the resource is not one pipeline"));
            OperatorLog.Invalid(logger, ns, name, described);
            await WriteStatusAsync(ns, name, status, generation, url: null, Condition("Valid", false, "InvalidPipeline", described),
                Condition("Ready", false, "InvalidPipeline", "the pipeline is not valid; its objects are left as they were"), ct).ConfigureAwait(false);
            return ReconcileResult.Done; // a new spec (a new generation) brings it back
        }

        var pipeline = loaded.Pipelines[0].Pipeline with { Metadata = loaded.Pipelines[0].Pipeline.Metadata with { Namespace = ns } };
        var valid = Condition("Valid", true, "Valid", loaded.Diagnostics.Any(d => d.Severity == Severity.Warning)
            ? "valid, with warnings:\n" + string.Join("\n", loaded.Diagnostics.Where(d => d.Severity == Severity.Warning).Select(Describe))
            : "the pipeline is valid");

        OperatorSettings settings;
        string? host;
        string hostNote;
        try
        {
            (settings, host, hostNote) = await SettingsAsync(ns, pipeline, ct).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            await WriteStatusAsync(ns, name, status, generation, url: null, valid,
                Condition("Ready", false, "ConfigurationInvalid", e.Message), ct).ConfigureAwait(false);
            return ReconcileResult.After(options.ResyncPeriod); // the ConfigMaps' watch brings it back sooner
        }

        var owner = new V1OwnerReference
        {
            ApiVersion = Pipeline.ApiVersionValue,
            Kind = Pipeline.KindValue,
            Name = name,
            Uid = meta.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
        var desired = PipelineManifests.Build(pipeline, new ManifestTarget(ns, host, owner), settings);
        V1Deployment? router = null;
        try
        {
            foreach (var obj in desired)
            {
                // the router's Deployment as applied, with its status: whether the pipeline is Ready
                if (await ChildKinds.Of(obj).Apply(kube, obj, ct).ConfigureAwait(false) is V1Deployment { Metadata.Name: var applied } deployment
                    && applied == KubeNames.Router(name))
                {
                    router = deployment;
                }
            }
        }
        catch (HttpOperationException e) when ((int)e.Response.StatusCode is 400 or 403 or 404 or 422)
        {
            // The server refuses what was built (a field it does not know, a missing CRD, a permission): say so; retry later.
            var message = $"the API server refused an object: {(int)e.Response.StatusCode} {KubeErrors.Message(e)}";
            OperatorLog.Refused(logger, ns, name, message);
            await WriteStatusAsync(ns, name, status, generation, url: null, valid, Condition("Ready", false, "ApplyFailed", message), ct).ConfigureAwait(false);
            return ReconcileResult.After(TimeSpan.FromMinutes(1));
        }

        await PruneAsync(ns, name, meta.Uid, desired, ct).ConfigureAwait(false);

        var available = router?.Status?.AvailableReplicas is > 0;
        var url = host is null ? null : $"http://{host}/";
        var ready = available
            ? Condition("Ready", true, "RouterAvailable", $"the router is available; {PipelineManifests.Scaled(pipeline).Count()} task function(s) scale with their work{hostNote}")
            : Condition("Ready", false, "RouterUnavailable", $"waiting for the router's Deployment {KubeNames.Router(name)} to have an available replica{hostNote}");
        await WriteStatusAsync(ns, name, status, generation, url, valid, ready, ct).ConfigureAwait(false);
        return available ? ReconcileResult.Done : ReconcileResult.After(WaitingRecheck);
    }

    /// <summary>The settings for a pipeline in <paramref name="ns"/>: the operator's, with the store and registry of the cluster's ConfigMaps, and its host.</summary>
    private async Task<(OperatorSettings Settings, string? Host, string HostNote)> SettingsAsync(string ns, Pipeline pipeline, CancellationToken ct)
    {
        var settings = options.Settings;
        if (options.StorageType is { Length: > 0 } storageType && storageType != "local")
        {
            var configMap = storageType.Equals("azure", StringComparison.OrdinalIgnoreCase) ? ClusterConfig.AzureStorageConfigMap : ClusterConfig.S3StorageConfigMap;
            var (data, source) = await ConfigMapAsync(ns, configMap, ct).ConfigureAwait(false);
            settings = settings with { Storage = ClusterConfig.Storage(storageType, data, source) };
        }

        var (services, servicesSource) = await ConfigMapAsync(ns, ClusterConfig.ServicesConfigMap, ct).ConfigureAwait(false);
        if (services is not null)
        {
            settings = settings with { RegistrySecret = ClusterConfig.RegistrySecret(services, servicesSource) };
        }

        var own = await OneConfigMapAsync(ns, DomainConfig.ConfigMapName, ct).ConfigureAwait(false);
        var operatorNs = ns == options.Namespace ? null : await OneConfigMapAsync(options.Namespace, DomainConfig.ConfigMapName, ct).ConfigureAwait(false);
        var (domains, domainSource) = DomainConfig.Choose(own, ns, operatorNs, options.Namespace);
        var suffix = domains.Lookup(pipeline.Metadata.Labels);
        return suffix is null
            ? (settings, null, $"; no host: no entry of {domainSource} matches the pipeline's labels (and it has no default)")
            : (settings, $"{pipeline.Name}.{ns}.{suffix}", "");
    }

    /// <summary>A ConfigMap's data from the pipeline's namespace, else the operator's; null when neither has it.</summary>
    private async Task<(IReadOnlyDictionary<string, string>? Data, string Source)> ConfigMapAsync(string ns, string name, CancellationToken ct)
    {
        if (await OneConfigMapAsync(ns, name, ct).ConfigureAwait(false) is { } own)
        {
            return (own, $"{ns}/{name}");
        }

        return ns != options.Namespace && await OneConfigMapAsync(options.Namespace, name, ct).ConfigureAwait(false) is { } shared
            ? (shared, $"{options.Namespace}/{name}")
            : (null, name);
    }

    private async Task<IReadOnlyDictionary<string, string>?> OneConfigMapAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            var configMap = await kube.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: ct).ConfigureAwait(false);
            return configMap.Data is { } data ? new Dictionary<string, string>(data, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Deletes the objects this pipeline owns that are no longer wanted (a removed task's, an ingress no longer asked for).</summary>
    private async Task PruneAsync(string ns, string name, string uid, IReadOnlyList<IKubernetesObject<V1ObjectMeta>> desired, CancellationToken ct)
    {
        var wanted = desired.Select(o => (o.Kind, o.Name())).ToHashSet();
        foreach (var kind in ChildKinds.All)
        {
            foreach (var meta in await OwnedAsync(kind, ns, name, uid, ct).ConfigureAwait(false))
            {
                if (!wanted.Contains((kind.Kind, meta.Name)))
                {
                    OperatorLog.Pruning(logger, ns, name, kind.Kind, meta.Name);
                    await DeleteAsync(kind, ns, meta.Name, ct).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>The finalizer's work: tear the pipeline's objects down in order, then let the resource go.</summary>
    private async Task<ReconcileResult> TearDownAsync(string ns, string name, V1ObjectMeta meta, CancellationToken ct)
    {
        if (!(meta.Finalizers?.Contains(Finalizer) ?? false))
        {
            return ReconcileResult.Done; // not ours to hold
        }

        foreach (var group in ChildKinds.All.GroupBy(k => k.TeardownOrder).OrderBy(g => g.Key))
        {
            var left = 0;
            foreach (var kind in group)
            {
                foreach (var child in await OwnedAsync(kind, ns, name, meta.Uid, ct).ConfigureAwait(false))
                {
                    left++;
                    if (child.DeletionTimestamp is null)
                    {
                        await DeleteAsync(kind, ns, child.Name, ct).ConfigureAwait(false);
                    }
                }
            }

            if (left > 0)
            {
                return ReconcileResult.After(TimeSpan.FromSeconds(1)); // the next group waits until these are gone
            }
        }

        OperatorLog.TornDown(logger, ns, name);
        await PatchFinalizersAsync(ns, name, meta, [.. meta.Finalizers.Where(f => f != Finalizer)], ct).ConfigureAwait(false);
        return ReconcileResult.Done;
    }

    private async Task<IEnumerable<V1ObjectMeta>> OwnedAsync(ChildKind kind, string ns, string name, string uid, CancellationToken ct)
    {
        IReadOnlyList<V1ObjectMeta> items;
        try
        {
            items = await kind.List(kube, ns, $"{PipelineManifests.PipelineLabel}={name}", ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return []; // the kind is not installed (no KEDA or Contour CRD): nothing of it can exist
        }

        // Only what this very resource owns: a same-named pipeline's leftovers or someone's look-alike stay untouched.
        return items.Where(i => i.OwnerReferences?.Any(o => o.Uid == uid) ?? false);
    }

    private async Task DeleteAsync(ChildKind kind, string ns, string name, CancellationToken ct)
    {
        try
        {
            await kind.Delete(kube, ns, name, ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>Sets the finalizers, only if the resource is still the version read (409 otherwise: the queue reads it again).</summary>
    private async Task PatchFinalizersAsync(string ns, string name, V1ObjectMeta meta, IReadOnlyList<string> finalizers, CancellationToken ct)
    {
        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "test", ["path"] = "/metadata/resourceVersion", ["value"] = meta.ResourceVersion },
            new JsonObject { ["op"] = meta.Finalizers is null ? "add" : "replace", ["path"] = "/metadata/finalizers", ["value"] = new JsonArray([.. finalizers.Select(f => JsonValue.Create(f))]) },
        };
        await kube.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name, cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>Writes the status when it differs from what is there; a condition keeps its transition time while its status stays.</summary>
    private async Task WriteStatusAsync(string ns, string name, JsonObject current, long generation, string? url,
        JsonObject valid, JsonObject ready, CancellationToken ct)
    {
        var old = current["conditions"] as JsonArray ?? [];
        var now = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var conditions = new JsonArray();
        foreach (var condition in new[] { valid, ready })
        {
            condition["observedGeneration"] = generation;
            var before = old.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == (string?)condition["type"]);
            condition["lastTransitionTime"] = before is not null && (string?)before["status"] == (string?)condition["status"] && before["lastTransitionTime"] is { } since
                ? since.DeepClone() : now;
            conditions.Add(condition);
        }

        var status = new JsonObject
        {
            ["observedGeneration"] = generation,
            ["url"] = url,
            ["router"] = $"http://{KubeNames.Router(name)}.{ns}.svc:{OperatorSettings.RouterHttpPort}/",
            ["conditions"] = conditions,
        };
        var unchanged = (long?)current["observedGeneration"] == generation && (string?)current["url"] == url
            && (string?)current["router"] == (string?)status["router"] && JsonNode.DeepEquals(old, conditions);
        if (unchanged)
        {
            return;
        }

        var patch = new JsonObject { ["status"] = status };
        await kube.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name, cancellationToken: ct).ConfigureAwait(false);
    }

    private static JsonObject Condition(string type, bool status, string reason, string message) => new()
    {
        ["type"] = type,
        ["status"] = status ? "True" : "False",
        ["reason"] = reason,
        ["message"] = message,
    };

    /// <summary>A diagnostic as a condition line: its code, the field, the message (positions refer to the API server's JSON, not the user's file, so they are left out).</summary>
    private static string Describe(Diagnostic d) => d.Path.Length > 0 ? $"{d.Code} {d.Path}: {d.Message}" : $"{d.Code}: {d.Message}";
}
