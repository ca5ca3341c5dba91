using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Koalja.Core.Spec;
using Koalja.Operator.Controller;

namespace Koalja.Operator.Tests.Cluster;

/// <summary>
/// What the operator does to a cluster, run against the in-process fake (<see cref="FakeControllerTests"/>, with
/// fault injection) and against a real kube-apiserver (<see cref="RealControllerTests"/>), so the fake stays honest.
/// Each test has its own namespace and its own controller watching only it.
/// </summary>
public abstract class ControllerSuite(ClusterBackend backend)
{
    protected ClusterBackend Backend { get; } = backend;

    protected IKubernetes Kube => Backend.Client;

    private static readonly string[] TaskNames = ["removeDuplicates", "countLines"];

    [Fact]
    public async Task APipelineGetsItsObjectsOwnedAndItsStatus()
    {
        var ns = await Backend.NamespaceAsync();
        var created = await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        var uid = created.GetProperty("metadata").GetProperty("uid").GetString();
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));

        var status = await StatusAsync(ns, "linecount", s => Condition(s, "Valid")?["status"]?.GetValue<string>() == "True" && Condition(s, "Ready") is not null);
        Assert.Equal("False", Condition(status, "Ready")!["status"]!.GetValue<string>());
        Assert.Equal("RouterUnavailable", Condition(status, "Ready")!["reason"]!.GetValue<string>());
        Assert.Equal($"http://linecount.{ns}.example.com/", status["url"]!.GetValue<string>());

        var resource = (await Backend.PipelineAsync(ns, "linecount"))!;
        Assert.Equal(resource["metadata"]!["generation"]!.GetValue<long>(), status["observedGeneration"]!.GetValue<long>());
        Assert.Contains(PipelineReconciler.Finalizer, resource["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));

        var deployments = (await Kube.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: "koalja.aljabr.io/pipeline=linecount")).Items;
        Assert.Equal(new[] { KubeNames.Task("linecount", "countLines"), KubeNames.Task("linecount", "removeDuplicates"), KubeNames.Router("linecount") }.Order(StringComparer.Ordinal),
            deployments.Select(d => d.Name()).Order(StringComparer.Ordinal));
        Assert.All(deployments, d => Assert.Equal(uid, Assert.Single(d.Metadata.OwnerReferences).Uid));
        var services = (await Kube.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: "koalja.aljabr.io/pipeline=linecount")).Items;
        Assert.Equal(3, services.Count);
        Assert.NotNull(await Kube.CoreV1.ReadNamespacedConfigMapAsync(KubeNames.Join("linecount", "pipeline"), ns));
        Assert.NotNull(await Kube.CoreV1.ReadNamespacedPersistentVolumeClaimAsync(KubeNames.Router("linecount"), ns));
        foreach (var task in TaskNames)
        {
            var scaled = await Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(ScaledObject.Group, ScaledObject.Version, ns, "scaledobjects", KubeNames.Task("linecount", task));
            Assert.Equal(KubeNames.Task("linecount", task), scaled["spec"]!["scaleTargetRef"]!["name"]!.GetValue<string>());
            Assert.Equal("external-push", scaled["spec"]!["triggers"]![0]!["type"]!.GetValue<string>());
        }

        var proxy = await Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(HttpProxy.Group, HttpProxy.Version, ns, "httpproxies", KubeNames.Ingress("linecount"));
        Assert.Equal($"linecount.{ns}.example.com", proxy["spec"]!["virtualhost"]!["fqdn"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReconcilingAgainChangesNothing()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        var options = RunningOperator.Options(ns);
        await using (RunningOperator.Start(Kube, options))
        {
            await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        }

        var before = await VersionsAsync(ns);
        var pipelineVersion = (await Backend.PipelineAsync(ns, "linecount"))!["metadata"]!["resourceVersion"]!.GetValue<string>();
        await using (var again = RunningOperator.Start(Kube, options))
        {
            await Eventually.Until(() => Task.FromResult(again.Controller!.Reconciles >= 1 && again.Controller.Queued == 0), "a second controller reconciled");
            await Task.Delay(300);
        }

        Assert.Equal(before, await VersionsAsync(ns));
        Assert.Equal(pipelineVersion, (await Backend.PipelineAsync(ns, "linecount"))!["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task AChangedTaskChangesOnlyItsOwnDeployment()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        var before = await VersionsAsync(ns);

        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "add", ["path"] = "/spec/tasks/2/executor/env", ["value"] = new JsonArray(new JsonObject { ["name"] = "X", ["value"] = "1" }) },
        };
        var patched = await Kube.CustomObjects.PatchNamespacedCustomObjectAsync<JsonNode>(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        var generation = patched["metadata"]!["generation"]!.GetValue<long>();
        await StatusAsync(ns, "linecount", s => s["observedGeneration"]?.GetValue<long>() == generation);

        var after = await VersionsAsync(ns);
        var changed = before.Keys.Where(k => !after.TryGetValue(k, out var v) || v != before[k]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([$"ConfigMap/{KubeNames.Join("linecount", "pipeline")}", $"Deployment/{KubeNames.Task("linecount", "countLines")}"], changed);
        var deployment = await Kube.AppsV1.ReadNamespacedDeploymentAsync(KubeNames.Task("linecount", "countLines"), ns);
        Assert.Contains(deployment.Spec.Template.Spec.Containers[0].Env, e => e.Name == "X" && e.Value == "1");
    }

    [Fact]
    public async Task ARemovedTaskLosesItsObjects()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);

        // countLines goes, with its link
        var patch = new JsonArray
        {
            new JsonObject { ["op"] = "remove", ["path"] = "/spec/links/1" },
            new JsonObject { ["op"] = "remove", ["path"] = "/spec/tasks/2" },
        };
        await Kube.CustomObjects.PatchNamespacedCustomObjectAsync<JsonNode>(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        var gone = KubeNames.Task("linecount", "countLines");
        await Eventually.Until(async () => (await Kube.AppsV1.ListNamespacedDeploymentAsync(ns)).Items.All(d => d.Name() != gone), "the removed task's Deployment deleted");
        await Eventually.Until(async () => (await Kube.CoreV1.ListNamespacedServiceAsync(ns)).Items.All(d => d.Name() != gone), "its Service deleted");
        await Eventually.Until(async () => !(await ScaledObjectNamesAsync(ns)).Contains(gone), "its ScaledObject deleted");
        Assert.Contains(KubeNames.Task("linecount", "removeDuplicates"), (await Kube.AppsV1.ListNamespacedDeploymentAsync(ns)).Items.Select(d => d.Name()));
    }

    [Fact]
    public async Task DeletingAPipelineTearsItsObjectsDownThenLetsItGo()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);

        await Kube.CustomObjects.DeleteNamespacedCustomObjectAsync(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        await Eventually.Until(async () => await Backend.PipelineAsync(ns, "linecount") is null, "the pipeline gone once its finalizer ran");
        Assert.Empty(await ScaledObjectNamesAsync(ns));
        Assert.DoesNotContain((await Kube.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: "koalja.aljabr.io/pipeline=linecount")).Items, d => d.Metadata.DeletionTimestamp is null);
        Assert.DoesNotContain((await Kube.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: "koalja.aljabr.io/pipeline=linecount")).Items, d => d.Metadata.DeletionTimestamp is null);
    }

    [Fact]
    public async Task TheDomainComesFromTheMostSpecificSelectorAndFollowsItsConfigMap()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"), p => p["metadata"]!["labels"] = new JsonObject { ["team"] = "data" });
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => s["url"]?.GetValue<string>() == $"http://linecount.{ns}.example.com/");

        await Kube.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = DomainConfig.ConfigMapName, NamespaceProperty = ns },
            Data = new Dictionary<string, string> { ["koalja.test"] = "", ["data.koalja.test"] = "selector:\n  team: data\n" },
        }, ns);
        await StatusAsync(ns, "linecount", s => s["url"]?.GetValue<string>() == $"http://linecount.{ns}.data.koalja.test/");
        var proxy = await Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(HttpProxy.Group, HttpProxy.Version, ns, "httpproxies", KubeNames.Ingress("linecount"));
        Assert.Equal($"linecount.{ns}.data.koalja.test", proxy["spec"]!["virtualhost"]!["fqdn"]!.GetValue<string>());

        // No default and no match: no host, said in Ready, and the ingress goes.
        var replaced = await Kube.CoreV1.ReadNamespacedConfigMapAsync(DomainConfig.ConfigMapName, ns);
        replaced.Data = new Dictionary<string, string> { ["other.koalja.test"] = "selector:\n  team: web\n" };
        await Kube.CoreV1.ReplaceNamespacedConfigMapAsync(replaced, DomainConfig.ConfigMapName, ns);
        var status = await StatusAsync(ns, "linecount", s => s["url"] is null && (Condition(s, "Ready")?["message"]?.GetValue<string>() ?? "").Contains("no host", StringComparison.Ordinal));
        Assert.Contains(DomainConfig.ConfigMapName, Condition(status, "Ready")!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await Eventually.Until(async () => (await Kube.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>(HttpProxy.Group, HttpProxy.Version, ns, "httpproxies"))["items"]!.AsArray().Count == 0,
            "the HTTPProxy deleted once there is no host");
    }

    /// <summary>What the CRD's schema lets through and the operator must refuse: the edits, and what the Valid condition must name.</summary>
    public static TheoryData<string, string, string> BadPipelines => new()
    {
        { "unknown-link-source", "links[0].sourceRef: nope/droppedFile", "nope" },
        { "duplicate-task", "tasks[1].name: fileDropInput", "fileDropInput" },
        { "bad-template", "tasks[1].executor.command[2]: cat {{.inputs.missing.path}}", "missing" },
        { "two-errors", "links[0].sourceRef: nope/droppedFile; links[1].destinationRef: countLines/nothing", "nope; nothing" },
    };

    [Theory]
    [MemberData(nameof(BadPipelines))]
    public async Task AnInvalidPipelineIsReportedWithEveryErrorAndNothingIsBuilt(string name, string edits, string mentioned)
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"), p =>
        {
            p["metadata"]!["name"] = name;
            foreach (var edit in edits.Split("; "))
            {
                Edit(p["spec"]!, edit);
            }
        });
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount")); // a good one beside it still works
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));

        var status = await StatusAsync(ns, name, s => Condition(s, "Valid") is not null);
        var valid = Condition(status, "Valid")!;
        Assert.Equal("False", valid["status"]!.GetValue<string>());
        Assert.Equal("InvalidPipeline", valid["reason"]!.GetValue<string>());
        var message = valid["message"]!.GetValue<string>();
        var lines = message.Split('\n');
        Assert.All(lines, l => Assert.StartsWith("KJ", l, StringComparison.Ordinal));
        foreach (var word in mentioned.Split("; "))
        {
            Assert.Contains(lines, l => l.Contains(word, StringComparison.Ordinal));
        }

        Assert.True(lines.Length >= edits.Split("; ").Length, message);
        Assert.Equal("False", Condition(status, "Ready")!["status"]!.GetValue<string>());
        Assert.Equal(status["observedGeneration"]!.GetValue<long>(), (await Backend.PipelineAsync(ns, name))!["metadata"]!["generation"]!.GetValue<long>());
        Assert.Empty((await Kube.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: $"koalja.aljabr.io/pipeline={name}")).Items);
        await StatusAsync(ns, "linecount", s => Condition(s, "Valid")?["status"]?.GetValue<string>() == "True");
    }

    [Fact]
    public async Task ABadStorageConfigurationIsReportedInReady()
    {
        var ns = await Backend.NamespaceAsync();
        await Kube.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = ClusterConfig.S3StorageConfigMap, NamespaceProperty = ns },
            Data = new Dictionary<string, string> { ["values"] = "name: values\nsecretName: s3\n" },
        }, ns);
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns) with { StorageType = "s3" });

        var status = await StatusAsync(ns, "linecount", s => Condition(s, "Ready")?["reason"]?.GetValue<string>() == "ConfigurationInvalid");
        Assert.Contains("'default'", Condition(status, "Ready")!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var fixedMap = await Kube.CoreV1.ReadNamespacedConfigMapAsync(ClusterConfig.S3StorageConfigMap, ns);
        fixedMap.Data = new Dictionary<string, string> { ["default"] = "name: values\nendpoint: rgw.storage.svc:7480\nsecretName: s3\n" };
        await Kube.CoreV1.ReplaceNamespacedConfigMapAsync(fixedMap, ClusterConfig.S3StorageConfigMap, ns);
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready")?["reason"]?.GetValue<string>() == "RouterUnavailable");
        var router = await Kube.AppsV1.ReadNamespacedDeploymentAsync(KubeNames.Router("linecount"), ns);
        var env = router.Spec.Template.Spec.Containers[0].Env;
        Assert.Contains(env, e => e.Name == "S3_ENDPOINT" && e.Value == "http://rgw.storage.svc:7480");
        Assert.Contains(env, e => e.Name == "S3_ACCESS_KEY" && e.ValueFrom.SecretKeyRef.Name == "s3");
    }

    [Fact]
    public async Task OneOfTwoOperatorsLeadsAndTheOtherTakesOverWhenItStops()
    {
        var ns = await Backend.NamespaceAsync();
        var options = RunningOperator.Options(ns) with
        {
            LeaseDuration = TimeSpan.FromSeconds(4), // long enough for a loaded CI machine to renew in time
            RenewDeadline = TimeSpan.FromSeconds(3),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        };
        await using var first = RunningOperator.Host(Kube, options with { Identity = "first" });
        await Eventually.Until(() => Task.FromResult(first.Controller is not null), "the first operator leads");
        await using var second = RunningOperator.Host(Kube, options with { Identity = "second" });
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        await Task.Delay(500);
        Assert.Null(second.Controller);
        var lease = await Kube.CoordinationV1.ReadNamespacedLeaseAsync(options.LeaseName, ns);
        Assert.Equal("first", lease.Spec.HolderIdentity);

        await first.StopAsync();
        await Eventually.Until(() => Task.FromResult(second.Controller is not null), "the second operator takes over", TimeSpan.FromSeconds(20));
        await Kube.CustomObjects.DeleteNamespacedCustomObjectAsync(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        await Eventually.Until(async () => await Backend.PipelineAsync(ns, "linecount") is null, "the new leader ran the finalizer");
    }

    /// <summary>Sets a field given as <c>path: value</c> (path with [index] steps) in a JSON spec.</summary>
    private static void Edit(JsonNode spec, string edit)
    {
        var (path, value) = (edit[..edit.IndexOf(": ", StringComparison.Ordinal)], edit[(edit.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
        var steps = path.Replace("]", "", StringComparison.Ordinal).Split('.', '[');
        var node = spec;
        for (var i = 0; i < steps.Length - 1; i++)
        {
            node = int.TryParse(steps[i], out var index) ? node[index]! : node[steps[i]]!;
        }

        if (int.TryParse(steps[^1], out var last))
        {
            node[last] = value;
        }
        else
        {
            node[steps[^1]] = value;
        }
    }

    protected async Task<JsonObject> StatusAsync(string ns, string name, Func<JsonObject, bool> condition)
    {
        JsonObject? status = null;
        await Eventually.Until(async () =>
        {
            status = (await Backend.PipelineAsync(ns, name))?["status"] as JsonObject;
            return status is not null && condition(status);
        }, $"the status of {ns}/{name} as expected; it is {status?.ToJsonString() ?? "(none)"}");
        return status!;
    }

    protected static JsonObject? Condition(JsonObject status, string type) =>
        (status["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);

    /// <summary>Every object of the pipeline's kinds in the namespace, by kind/name, with its resource version (or generation).</summary>
    protected async Task<Dictionary<string, string>> VersionsAsync(string ns)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        // Deployments and ScaledObjects by generation: controllers (kube-controller-manager, KEDA) write their status.
        foreach (var d in (await Kube.AppsV1.ListNamespacedDeploymentAsync(ns)).Items)
        {
            versions[$"Deployment/{d.Name()}"] = $"generation {d.Generation()}";
        }

        foreach (var s in (await Kube.CoreV1.ListNamespacedServiceAsync(ns)).Items)
        {
            versions[$"Service/{s.Name()}"] = s.ResourceVersion();
        }

        foreach (var c in (await Kube.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: "app.kubernetes.io/part-of=koalja")).Items)
        {
            versions[$"ConfigMap/{c.Name()}"] = c.ResourceVersion();
        }

        // Claims by their spec: the pvc-protection controller adds its finalizer.
        foreach (var c in (await Kube.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns)).Items)
        {
            versions[$"PersistentVolumeClaim/{c.Name()}"] = KubernetesJson.Serialize(c.Spec);
        }

        var scaled = await Kube.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>(ScaledObject.Group, ScaledObject.Version, ns, "scaledobjects");
        foreach (var item in scaled["items"]!.AsArray())
        {
            versions[$"ScaledObject/{item!["metadata"]!["name"]}"] = $"generation {item["metadata"]!["generation"]}";
        }

        return versions;
    }

    protected async Task<List<string>> ScaledObjectNamesAsync(string ns)
    {
        var scaled = await Kube.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>(ScaledObject.Group, ScaledObject.Version, ns, "scaledobjects");
        return [.. scaled["items"]!.AsArray().Where(i => i!["metadata"]!["deletionTimestamp"] is null).Select(i => i!["metadata"]!["name"]!.GetValue<string>())];
    }
}

/// <summary>The controller suite against the in-process fake API server, plus what only a fake can do: fail on purpose.</summary>
public sealed class FakeControllerTests(FakeBackend backend) : ControllerSuite(backend), IClassFixture<FakeBackend>
{
    private Fake.FakeKubeApi Fake => Backend.Fake!;

    [Fact]
    public async Task ARouterThatBecomesAvailableMakesThePipelineReady()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready")?["reason"]?.GetValue<string>() == "RouterUnavailable");

        var status = new JsonObject { ["status"] = new JsonObject { ["replicas"] = 1, ["readyReplicas"] = 1, ["availableReplicas"] = 1 } };
        await Kube.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), KubeNames.Router("linecount"), ns);
        var ready = await StatusAsync(ns, "linecount", s => Condition(s, "Ready")?["status"]?.GetValue<string>() == "True");
        Assert.Equal("RouterAvailable", Condition(ready, "Ready")!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task AConflictOrAServerErrorIsRetriedUntilItConverges()
    {
        var ns = await Backend.NamespaceAsync();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        Fake.FailNext("PATCH", "deployments", 409, times: 2, reason: "Conflict");
        Fake.FailNext("PATCH", "scaledobjects", 500, times: 2);
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        Assert.Equal(2, (await ScaledObjectNamesAsync(ns)).Count);
        Assert.True(op.Controller!.Failures >= 3, $"failures {op.Controller.Failures}");
    }

    [Fact]
    public async Task ADroppedWatchResumesAndAnExpiredOneRelists()
    {
        var ns = await Backend.NamespaceAsync();
        await using var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await op.Controller!.Synced;
        // Listed is not yet watching: drop the watch only once the server holds it.
        var watchPath = $"/apis/{Pipeline.Group}/{Pipeline.Version}/namespaces/{ns}/{PipelineCrd.Plural}";
        await Eventually.Until(() => Task.FromResult(Fake.Requests.Any(r => r.Verb == "watch" && r.Path == watchPath)), "the pipelines watched");
        var lists = op.Controller.PipelineLists;
        var watches = op.Controller.PipelineWatches;

        Fake.DropWatches();
        await Eventually.Until(() => Task.FromResult(op.Controller.PipelineWatches > watches), "the watch started again");
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        Assert.Equal(lists, op.Controller.PipelineLists); // resumed from its version, no list

        // The watch breaks and cannot come back at once; meanwhile a pipeline is made and the history compacted:
        // the watch's version is gone (410), so the informer lists again, and finds the new pipeline.
        Fake.FailNext("WATCH", "pipelines", 500, times: 2);
        Fake.DropWatches();
        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"), p => p["metadata"]!["name"] = "second");
        Fake.Compact();
        await Eventually.Until(() => Task.FromResult(op.Controller.PipelineLists > lists), "listed again after 410 Gone");
        await StatusAsync(ns, "second", s => Condition(s, "Ready") is not null);
    }

    [Fact]
    public async Task APipelineDeletedWhileTheWatchWasDownIsNoticedOnRelist()
    {
        var ns = await Backend.NamespaceAsync();
        var resource = await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        var op = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await StatusAsync(ns, "linecount", s => Condition(s, "Ready") is not null);
        await op.StopAsync();

        // Gone without the operator (its finalizer removed by hand), and the history compacted.
        var patch = new JsonArray { new JsonObject { ["op"] = "replace", ["path"] = "/metadata/finalizers", ["value"] = new JsonArray() } };
        await Kube.CustomObjects.PatchNamespacedCustomObjectAsync<JsonNode>(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        await Kube.CustomObjects.DeleteNamespacedCustomObjectAsync(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
        Fake.Compact();
        await using var again = RunningOperator.Start(Kube, RunningOperator.Options(ns));
        await again.Controller!.Synced;
        Assert.Null(await Backend.PipelineAsync(ns, "linecount"));
        Assert.Empty((await Kube.AppsV1.ListNamespacedDeploymentAsync(ns)).Items); // garbage-collected by owner (the fake's collector)
        Assert.NotNull(resource.GetProperty("metadata").GetProperty("uid").GetString());
    }
}

/// <summary>The controller suite against a real kube-apiserver v1.20.2 (+ etcd, kube-controller-manager).</summary>
[Trait("Server", "kube-apiserver")]
public sealed class RealControllerTests(RealBackend backend) : ControllerSuite(backend), IClassFixture<RealBackend>
{
    /// <summary>The operator runs with only its ServiceAccount's permissions from infra/install/rbac.yaml: a missing one fails here.</summary>
    [Fact]
    public async Task TheOperatorNeedsNoMoreThanItsRbac()
    {
        var ns = await Backend.NamespaceAsync();
        foreach (var obj in OperatorInstall.Rbac(ns))
        {
            await ApplyAsync(obj);
        }

        string? token = null;
        await Eventually.Until(async () =>
        {
            var account = await Kube.CoreV1.ReadNamespacedServiceAccountAsync(OperatorInstall.Name, ns);
            if (account.Secrets is not { Count: > 0 })
            {
                return false;
            }

            var secret = await Kube.CoreV1.ReadNamespacedSecretAsync(account.Secrets[0].Name, ns);
            token = secret.Data?.TryGetValue("token", out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : null;
            return token is not null;
        }, "the ServiceAccount's token (kube-controller-manager's token controller)");

        var admin = KubernetesClientConfiguration.BuildConfigFromConfigFile(Koalja.Testing.TestServers.Kubeconfig);
        using var asOperator = new Kubernetes(new KubernetesClientConfiguration { Host = admin.Host, AccessToken = token, SkipTlsVerify = true });
        await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => asOperator.CoreV1.ListNamespacedSecretAsync(ns)); // it cannot read Secrets

        await Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"));
        await using (var op = RunningOperator.Host(asOperator, RunningOperator.Options(ns)))
        {
            await StatusAsync(ns, "linecount", s => Condition(s, "Ready")?["reason"]?.GetValue<string>() == "RouterUnavailable");
            Assert.Equal(2, (await ScaledObjectNamesAsync(ns)).Count);
            await Kube.CustomObjects.DeleteNamespacedCustomObjectAsync(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, "linecount");
            await Eventually.Until(async () => await Backend.PipelineAsync(ns, "linecount") is null, "torn down with the operator's own permissions");
        }
    }

    private async Task ApplyAsync(IKubernetesObject<V1ObjectMeta> obj)
    {
        const string manager = "koalja-tests";
        switch (obj)
        {
            case V1ServiceAccount a:
                await Kube.CoreV1.PatchNamespacedServiceAccountAsync(new V1Patch(a, V1Patch.PatchType.ApplyPatch), a.Name(), a.Namespace(), fieldManager: manager, force: true);
                break;
            case V1ClusterRole r:
                await Kube.RbacAuthorizationV1.PatchClusterRoleAsync(new V1Patch(r, V1Patch.PatchType.ApplyPatch), r.Name(), fieldManager: manager, force: true);
                break;
            case V1ClusterRoleBinding b:
                // each test namespace binds its own account: a binding per namespace
                b.Metadata.Name = $"{b.Name()}-{b.Subjects[0].NamespaceProperty}";
                await Kube.RbacAuthorizationV1.PatchClusterRoleBindingAsync(new V1Patch(b, V1Patch.PatchType.ApplyPatch), b.Name(), fieldManager: manager, force: true);
                break;
            case V1Role r:
                await Kube.RbacAuthorizationV1.PatchNamespacedRoleAsync(new V1Patch(r, V1Patch.PatchType.ApplyPatch), r.Name(), r.Namespace(), fieldManager: manager, force: true);
                break;
            case V1RoleBinding b:
                await Kube.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(new V1Patch(b, V1Patch.PatchType.ApplyPatch), b.Name(), b.Namespace(), fieldManager: manager, force: true);
                break;
            default:
                throw new InvalidOperationException($"unexpected {obj.Kind}");
        }
    }

    [Fact]
    public async Task TheRouterFindsATaskServicesReadyReplicasInItsEndpointsAsTheyChange()
    {
        var ns = await Backend.NamespaceAsync();
        V1Endpoints Endpoints(params string[] ready) => new()
        {
            Metadata = new V1ObjectMeta { Name = "linecount-countlines", NamespaceProperty = ns },
            Subsets =
            [
                new V1EndpointSubset
                {
                    Addresses = ready.Length == 0 ? null : [.. ready.Select(ip => new V1EndpointAddress { Ip = ip })],
                    NotReadyAddresses = [new V1EndpointAddress { Ip = "10.244.0.99" }],
                    Ports = [new Corev1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
                },
            ],
        };
        await Kube.CoreV1.CreateNamespacedEndpointsAsync(Endpoints("10.244.0.12", "10.244.0.11"), ns);
        await using var endpoints = new TaskEndpoints(Kube, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System);
        async Task<string> Resolve() => string.Join(",", (await endpoints.ResolveAsync($"linecount-countlines.{ns}.svc", CancellationToken.None)).Select(a => a.ToString()));

        Assert.Equal("10.244.0.11,10.244.0.12", await Resolve()); // ready ones only, in a stable order
        Assert.Equal("", string.Join(",", await endpoints.ResolveAsync($"linecount-nothing.{ns}.svc.cluster.local", CancellationToken.None)));

        await Kube.CoreV1.ReplaceNamespacedEndpointsAsync(Endpoints("10.244.0.12"), "linecount-countlines", ns);
        await Eventually.Until(async () => await Resolve() == "10.244.0.12", "a replica that left the Endpoints forgotten");
        await Kube.CoreV1.DeleteNamespacedEndpointsAsync("linecount-countlines", ns);
        await Eventually.Until(async () => await Resolve() == "", "deleted Endpoints forgotten");
    }

    [Theory]
    [InlineData("linecount-countlines.lab.svc", "lab", "linecount-countlines")]
    [InlineData("linecount-countlines.lab.svc.cluster.local.", "lab", "linecount-countlines")]
    [InlineData("router.example.com", null, null)]
    [InlineData("127.0.0.1", null, null)]
    [InlineData("a_b.lab.svc", null, null)]
    public void ATaskUrlsHostNamesItsServiceOnlyWhenItIsAServiceName(string host, string? ns, string? name)
    {
        Assert.Equal(ns is null ? null : (ns, name!), TaskEndpoints.ServiceName(host));
    }

    /// <summary>
    /// The ScaledObjects of every example, applied as the operator applies them, are accepted by the ScaledObject schema
    /// (crds/keda-scaledobjects.yaml, KEDA's documented spec) and come back whole: a field KEDA does not know would be
    /// pruned, a wrongly typed one refused.
    /// </summary>
    [Fact]
    public async Task EveryExamplesScaledObjectsAreKeptWholeByTheScaledObjectSchema()
    {
        var ns = await Backend.NamespaceAsync();
        var settings = new OperatorSettings { Storage = StorageConfig.S3("values", "http://rgw.storage.svc:7480", "koalja-s3") };
        foreach (var file in Directory.GetFiles(Path.Combine(Koalja.Testing.Repository.Root, "examples"), "*.yaml"))
        {
            var pipeline = Core.Loading.PipelineLoader.LoadFile(file).Pipelines[0].Pipeline;
            foreach (var scaled in PipelineManifests.Build(pipeline, new ManifestTarget(ns, null), settings).OfType<ScaledObject>())
            {
                await ServerSideApply.ApplyAsync(Kube, scaled);
                var stored = await Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(ScaledObject.Group, ScaledObject.Version, ns, "scaledobjects", scaled.Name());
                var sent = JsonNode.Parse(KubernetesJson.Serialize(scaled))!;
                Assert.True(JsonNode.DeepEquals(sent["spec"], stored["spec"]), $"{Path.GetFileName(file)}: {scaled.Name()} sent {sent["spec"]!.ToJsonString()}, stored {stored["spec"]!.ToJsonString()}");
            }
        }
    }

    [Fact]
    public async Task TheApiServerAcceptsEveryExampleAndTheCrdRejectsWhatItCan()
    {
        var ns = await Backend.NamespaceAsync();
        foreach (var file in Directory.GetFiles(Path.Combine(Koalja.Testing.Repository.Root, "examples"), "*.yaml"))
        {
            await Backend.CreatePipelineAsync(ns, await File.ReadAllTextAsync(file));
        }

        var bad = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => Backend.CreatePipelineAsync(ns, ClusterBackend.Example("linecount"), p =>
        {
            p["metadata"]!["name"] = "bad-policy";
            p["spec"]!["tasks"]![1]!["snapshotPolicy"] = "Sometimes";
        }));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, bad.Response.StatusCode);
        Assert.Contains("snapshotPolicy", bad.Response.Content, StringComparison.Ordinal);
    }
}
