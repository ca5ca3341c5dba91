using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Koalja.Operator.Tests.Fake;

namespace Koalja.Operator.Tests;

/// <summary>The fake API server (tests/Koalja.Operator.Tests/Fake), each test through a real KubernetesClient.</summary>
public sealed class FakeKubeApiTests : IAsyncLifetime, IDisposable
{
    private const string Ns = "koalja";
    private const string Group = "koalja.aljabr.io";
    private const string Version = "v1alpha1";
    private const string Pipelines = "pipelines";

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(10));
    private FakeKubeApi _fake = null!;
    private Kubernetes _client = null!;

    private CancellationToken Token => _timeout.Token;

    public async Task InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync();
        _client = _fake.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task ConfigMapsAreCreatedReadListedAndDeleted()
    {
        var one = await CreateConfigMapAsync("one", ("app", "web"), ("tier", "front"));
        await CreateConfigMapAsync("two", ("app", "web"));
        var three = await CreateConfigMapAsync("three", ("app", "db"));
        await CreateConfigMapAsync("elsewhere", "other", ("app", "web"));

        Assert.Equal("ConfigMap", one.Kind); // from the URL: the typed client sent none
        Assert.Equal("v1", one.ApiVersion);
        Assert.False(string.IsNullOrEmpty(one.Metadata.Uid));
        Assert.NotNull(one.Metadata.CreationTimestamp);
        Assert.Equal(1, one.Metadata.Generation);
        Assert.True(long.Parse(three.Metadata.ResourceVersion) > long.Parse(one.Metadata.ResourceVersion));

        var read = await _client.CoreV1.ReadNamespacedConfigMapAsync("one", Ns, cancellationToken: Token);
        Assert.Equal(one.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("one", read.Data["name"]);

        var list = await _client.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token);
        Assert.Equal("ConfigMapList", list.Kind);
        Assert.Equal(_fake.ResourceVersion, list.Metadata.ResourceVersion);
        Assert.Equal(["one", "three", "two"], Names(list));

        Assert.Equal(["one", "two"], await ListAsync("app=web"));
        Assert.Equal(["one", "two"], await ListAsync("app==web"));
        Assert.Equal(["three"], await ListAsync("app!=web"));
        Assert.Equal(["one"], await ListAsync("tier"));
        Assert.Equal(["three", "two"], await ListAsync("!tier"));
        Assert.Equal(["one"], await ListAsync("app=web,tier=front"));
        Assert.Equal(["one", "three", "two"], await ListAsync("app in (web,db)"));
        Assert.Equal(["three"], await ListAsync("app notin (web),app"));
        Assert.Equal(["two"], await ListAsync(null, "metadata.name=two"));
        Assert.Equal(["one", "three"], await ListAsync(null, "metadata.name!=two"));
        Assert.Equal(["two"], await ListAsync("app=web", "metadata.name=two"));

        var everywhere = await _client.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: "app=web", cancellationToken: Token);
        Assert.Equal(["elsewhere", "one", "two"], Names(everywhere).Order(StringComparer.Ordinal));

        var bad = await Assert.ThrowsAsync<HttpOperationException>(() => ListAsync("app=web,=x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Response.StatusCode);
        Assert.Equal("BadRequest", Reason(bad));

        await _client.CoreV1.DeleteNamespacedConfigMapAsync("one", Ns, cancellationToken: Token);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedConfigMapAsync("one", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
        Assert.Null(_fake.Get("configmaps", Ns, "one"));
        Assert.NotNull(_fake.Get("configmaps", Ns, "two"));
    }

    [Fact]
    public async Task ErrorsAreStatusObjectsWithTheirReason()
    {
        await CreateConfigMapAsync("cm");
        var exists = await Assert.ThrowsAsync<HttpOperationException>(() => CreateConfigMapAsync("cm"));
        Assert.Equal(HttpStatusCode.Conflict, exists.Response.StatusCode);
        Assert.Equal("AlreadyExists", Reason(exists));

        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => _client.AppsV1.ReadNamespacedDeploymentAsync("nope", Ns, cancellationToken: Token));
        var status = JsonNode.Parse(missing.Response.Content)!;
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("v1", status["apiVersion"]!.GetValue<string>());
        Assert.Equal("Failure", status["status"]!.GetValue<string>());
        Assert.Equal("NotFound", status["reason"]!.GetValue<string>());
        Assert.Equal(404, status["code"]!.GetValue<int>());
        Assert.Equal("deployments.apps \"nope\" not found", status["message"]!.GetValue<string>());

        var deleteMissing = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.DeleteNamespacedConfigMapAsync("nope", Ns, cancellationToken: Token));
        Assert.Equal("NotFound", Reason(deleteMissing));
    }

    [Fact]
    public async Task GenerateNameGivesAFreshName()
    {
        var body = new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "gen-" } };
        var first = await _client.CoreV1.CreateNamespacedConfigMapAsync(body, Ns, cancellationToken: Token);
        var second = await _client.CoreV1.CreateNamespacedConfigMapAsync(body, Ns, cancellationToken: Token);
        Assert.StartsWith("gen-", first.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(9, first.Metadata.Name.Length);
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
    }

    [Fact]
    public async Task AReplaceWithAStaleResourceVersionIsAConflict()
    {
        var created = await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 1), Ns, cancellationToken: Token);
        Assert.Equal(1, created.Metadata.Generation);

        created.Spec.Replicas = 2;
        var replaced = await _client.AppsV1.ReplaceNamespacedDeploymentAsync(created, "web", Ns, cancellationToken: Token);
        Assert.Equal(2, replaced.Spec.Replicas);
        Assert.Equal(2, replaced.Metadata.Generation);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        created.Spec.Replicas = 3; // still the first resourceVersion
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.AppsV1.ReplaceNamespacedDeploymentAsync(created, "web", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("Conflict", Reason(conflict));
        Assert.Contains("the object has been modified", conflict.Response.Content, StringComparison.Ordinal);

        // metadata does not count as a change of generation; status on the main resource is ignored
        replaced.Metadata.Labels["extra"] = "yes";
        replaced.Status = new V1DeploymentStatus { Replicas = 7 };
        var relabelled = await _client.AppsV1.ReplaceNamespacedDeploymentAsync(replaced, "web", Ns, cancellationToken: Token);
        Assert.Equal(2, relabelled.Metadata.Generation);
        Assert.Equal("yes", relabelled.Metadata.Labels["extra"]);
        Assert.Null(relabelled.Status);

        // /status changes status only
        relabelled.Status = new V1DeploymentStatus { Replicas = 2, ReadyReplicas = 1 };
        relabelled.Spec.Replicas = 9;
        var status = await _client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(relabelled, "web", Ns, cancellationToken: Token);
        Assert.Equal(1, status.Status.ReadyReplicas);
        Assert.Equal(2, status.Spec.Replicas);
        Assert.Equal(2, status.Metadata.Generation);
    }

    [Fact]
    public async Task CustomObjectsHaveAStatusSubresource()
    {
        var body = new JsonObject
        {
            ["apiVersion"] = $"{Group}/{Version}",
            ["kind"] = "Pipeline",
            ["metadata"] = new JsonObject { ["name"] = "lines", ["namespace"] = Ns },
            ["spec"] = new JsonObject { ["tasks"] = new JsonArray(new JsonObject { ["name"] = "count" }) },
            ["status"] = new JsonObject { ["phase"] = "dropped on create" },
        };
        var created = await _client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonNode>(body, Group, Version, Ns, Pipelines, cancellationToken: Token);
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<int>());
        Assert.Null(created["status"]);

        var statusPatch = new JsonObject { ["status"] = new JsonObject { ["observedGeneration"] = 1, ["phase"] = "Ready" }, ["spec"] = new JsonObject { ["tasks"] = null } };
        var withStatus = await _client.CustomObjects.PatchNamespacedCustomObjectStatusAsync<JsonNode>(new V1Patch(statusPatch.ToJsonString(), V1Patch.PatchType.MergePatch),
            Group, Version, Ns, Pipelines, "lines", cancellationToken: Token);
        Assert.Equal("Ready", withStatus["status"]!["phase"]!.GetValue<string>());
        Assert.NotNull(withStatus["spec"]!["tasks"]); // /status changes only status
        Assert.Equal(1, withStatus["metadata"]!["generation"]!.GetValue<int>());
        Assert.NotEqual(Rv(created), Rv(withStatus));

        var specPatch = new JsonObject { ["spec"] = new JsonObject { ["paused"] = true }, ["status"] = new JsonObject { ["phase"] = "ignored" } };
        var patched = await _client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonNode>(new V1Patch(specPatch.ToJsonString(), V1Patch.PatchType.MergePatch),
            Group, Version, Ns, Pipelines, "lines", cancellationToken: Token);
        Assert.True(patched["spec"]!["paused"]!.GetValue<bool>());
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<int>());
        Assert.Equal("Ready", patched["status"]!["phase"]!.GetValue<string>());

        var list = await _client.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>(Group, Version, Ns, Pipelines, cancellationToken: Token);
        Assert.Equal("PipelineList", list["kind"]!.GetValue<string>());
        Assert.Single(list["items"]!.AsArray());

        // a custom resource's PUT needs a resourceVersion, as kube-apiserver requires
        var unversioned = patched.DeepClone();
        unversioned["metadata"]!.AsObject().Remove("resourceVersion");
        var invalid = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CustomObjects.ReplaceNamespacedCustomObjectAsync<JsonNode>(unversioned, Group, Version, Ns, Pipelines, "lines", cancellationToken: Token));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Response.StatusCode);

        var read = await _client.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(Group, Version, Ns, Pipelines, "lines", cancellationToken: Token);
        Assert.Equal(Rv(patched), Rv(read));
        Assert.Equal("Pipeline", _fake.Get(Pipelines, Ns, "lines")!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task ServerSideApplyCreatesMergesAndIsANoOpWhenNothingChanges()
    {
        var applied = Deployment("web", 1);
        var created = await ApplyAsync(applied, "koalja");
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal(HttpStatusCode.Created, (HttpStatusCode)_fake.Requests[^1].StatusCode);

        using var watch = new CancellationTokenSource();
        var events = CollectAsync(_client.AppsV1.WatchListNamespacedDeploymentAsync(Ns, resourceVersion: created.Metadata.ResourceVersion, cancellationToken: watch.Token));

        var again = await ApplyAsync(Deployment("web", 1), "koalja");
        Assert.Equal(created.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(created.Metadata.ResourceVersion, _fake.ResourceVersion);

        var status = new JsonObject { ["status"] = new JsonObject { ["readyReplicas"] = 1 } };
        await _client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), "web", Ns, cancellationToken: Token);

        var scaled = Deployment("web", 3);
        scaled.Status = new V1DeploymentStatus { ReadyReplicas = 99 }; // status is untouched by an apply of the main resource
        var changed = await ApplyAsync(scaled, "koalja");
        Assert.Equal(3, changed.Spec.Replicas);
        Assert.Equal(2, changed.Metadata.Generation);
        Assert.Equal(1, changed.Status.ReadyReplicas);

        // another manager's fields merge in: labels merged, the rest kept
        var labels = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = "web", ["labels"] = new JsonObject { ["team"] = "data" } },
        };
        var merged = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(labels.ToJsonString(), V1Patch.PatchType.ApplyPatch), "web", Ns,
            fieldManager: "other", force: true, cancellationToken: Token);
        Assert.Equal("web", merged.Metadata.Labels["app"]);
        Assert.Equal("data", merged.Metadata.Labels["team"]);
        Assert.Equal(3, merged.Spec.Replicas);
        Assert.Equal(2, merged.Metadata.Generation);

        var seen = await events.WaitForAsync(3, Token);
        Assert.Equal([WatchEventType.Modified, WatchEventType.Modified, WatchEventType.Modified], seen.Select(e => e.Type));
        Assert.Equal(1, seen[0].Object.Status.ReadyReplicas); // the identical apply sent nothing
        Assert.Equal(3, seen[1].Object.Spec.Replicas);
        await watch.CancelAsync();

        var noManager = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(Deployment("web", 1), V1Patch.PatchType.ApplyPatch), "web", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.BadRequest, noManager.Response.StatusCode);
        Assert.Contains("fieldManager", noManager.Response.Content, StringComparison.Ordinal);

        var request = _fake.Requests.Last(r => r.Method == "PATCH" && r.StatusCode == 200);
        Assert.StartsWith("application/apply-patch+yaml", request.ContentType, StringComparison.Ordinal);
        Assert.Equal("other", request.QueryValue("fieldManager"));
        Assert.Equal("true", request.QueryValue("force"));
    }

    [Fact]
    public async Task MergeAndJsonPatchesChangeTheObject()
    {
        await CreateConfigMapAsync("cm", ("app", "web"), ("old", "x"));
        var merge = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["old"] = null, ["new"] = "y" } }, ["data"] = new JsonObject { ["k"] = "v2" } };
        var merged = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(merge.ToJsonString(), V1Patch.PatchType.MergePatch), "cm", Ns, cancellationToken: Token);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["new"] = "y" }, merged.Metadata.Labels);
        Assert.Equal("v2", merged.Data["k"]);
        Assert.Equal("cm", merged.Data["name"]);

        var strategic = new JsonObject { ["data"] = new JsonObject { ["s"] = "1" } };
        var viaStrategic = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(strategic.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), "cm", Ns, cancellationToken: Token);
        Assert.Equal("1", viaStrategic.Data["s"]);

        var ops = new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = "/data/k", ["value"] = "v2" },
            new JsonObject { ["op"] = "replace", ["path"] = "/data/k", ["value"] = "v3" },
            new JsonObject { ["op"] = "add", ["path"] = "/data/a~1b", ["value"] = "slash" },
            new JsonObject { ["op"] = "remove", ["path"] = "/metadata/labels/new" });
        var patched = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(ops.ToJsonString(), V1Patch.PatchType.JsonPatch), "cm", Ns, cancellationToken: Token);
        Assert.Equal("v3", patched.Data["k"]);
        Assert.Equal("slash", patched.Data["a/b"]);
        Assert.False(patched.Metadata.Labels.ContainsKey("new"));

        var failing = new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/data/k", ["value"] = "never" },
            new JsonObject { ["op"] = "test", ["path"] = "/data/k", ["value"] = "v2" });
        var failed = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(failing.ToJsonString(), V1Patch.PatchType.JsonPatch), "cm", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.Response.StatusCode);
        Assert.Equal("v3", (await _client.CoreV1.ReadNamespacedConfigMapAsync("cm", Ns, cancellationToken: Token)).Data["k"]);

        var stale = new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = "1" }, ["data"] = new JsonObject { ["k"] = "stale" } };
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(stale.ToJsonString(), V1Patch.PatchType.MergePatch), "cm", Ns, cancellationToken: Token));
        Assert.Equal("Conflict", Reason(conflict));

        var missing = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(merge.ToJsonString(), V1Patch.PatchType.MergePatch), "nope", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task AFinalizerHoldsADeletedObjectUntilItIsRemoved()
    {
        var body = ConfigMap("held");
        body.Metadata.Finalizers = ["koalja.aljabr.io/teardown"];
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(body, Ns, cancellationToken: Token);
        using var watch = new CancellationTokenSource();
        var events = CollectAsync(_client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: created.Metadata.ResourceVersion, cancellationToken: watch.Token));

        await _client.CoreV1.DeleteNamespacedConfigMapAsync("held", Ns, cancellationToken: Token);
        var deleting = await _client.CoreV1.ReadNamespacedConfigMapAsync("held", Ns, cancellationToken: Token);
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);
        Assert.NotEqual(created.Metadata.ResourceVersion, deleting.Metadata.ResourceVersion);

        var remove = new JsonArray(new JsonObject { ["op"] = "remove", ["path"] = "/metadata/finalizers" });
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(remove.ToJsonString(), V1Patch.PatchType.JsonPatch), "held", Ns, cancellationToken: Token);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedConfigMapAsync("held", Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);

        var seen = await events.WaitForAsync(2, Token);
        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted], seen.Select(e => e.Type));
        Assert.NotNull(seen[0].Object.Metadata.DeletionTimestamp);
        await watch.CancelAsync();
    }

    [Fact]
    public async Task DeletingAnOwnerCollectsWhatItOwnsRecursively()
    {
        var owner = await CreateConfigMapAsync("owner");
        var other = await CreateConfigMapAsync("other");
        var child = Deployment("child", 1);
        child.Metadata.OwnerReferences = [Owner(owner)];
        var createdChild = await _client.AppsV1.CreateNamespacedDeploymentAsync(child, Ns, cancellationToken: Token);
        var grandchild = ConfigMap("grandchild");
        grandchild.Metadata.OwnerReferences = [Owner(createdChild)];
        await _client.CoreV1.CreateNamespacedConfigMapAsync(grandchild, Ns, cancellationToken: Token);
        var shared = ConfigMap("shared");
        shared.Metadata.OwnerReferences = [Owner(owner), Owner(other)];
        await _client.CoreV1.CreateNamespacedConfigMapAsync(shared, Ns, cancellationToken: Token);

        await _client.CoreV1.DeleteNamespacedConfigMapAsync("owner", Ns, cancellationToken: Token);
        Assert.Empty((await _client.AppsV1.ListNamespacedDeploymentAsync(Ns, cancellationToken: Token)).Items);
        Assert.Null(_fake.Get("configmaps", Ns, "grandchild"));
        var kept = await _client.CoreV1.ReadNamespacedConfigMapAsync("shared", Ns, cancellationToken: Token);
        Assert.Equal(other.Metadata.Uid, Assert.Single(kept.Metadata.OwnerReferences).Uid); // its live owner keeps it

        // orphaned on request, and with the collector off
        var orphanOwner = await CreateConfigMapAsync("orphan-owner");
        var orphan = ConfigMap("orphan");
        orphan.Metadata.OwnerReferences = [Owner(orphanOwner)];
        await _client.CoreV1.CreateNamespacedConfigMapAsync(orphan, Ns, cancellationToken: Token);
        await _client.CoreV1.DeleteNamespacedConfigMapAsync("orphan-owner", Ns, propagationPolicy: "Orphan", cancellationToken: Token);
        Assert.NotNull(_fake.Get("configmaps", Ns, "orphan"));

        _fake.GarbageCollection = false;
        var uncollected = ConfigMap("uncollected");
        uncollected.Metadata.OwnerReferences = [Owner(other)];
        await _client.CoreV1.CreateNamespacedConfigMapAsync(uncollected, Ns, cancellationToken: Token);
        await _client.CoreV1.DeleteNamespacedConfigMapAsync("other", Ns, cancellationToken: Token);
        Assert.NotNull(_fake.Get("configmaps", Ns, "uncollected"));
    }

    [Fact]
    public async Task DeletingANamespaceDeletesWhatIsInIt()
    {
        var ns = await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "doomed" } }, cancellationToken: Token);
        Assert.Equal("Active", ns.Status.Phase);
        Assert.Null(ns.Metadata.NamespaceProperty);
        await CreateConfigMapAsync("inside", "doomed");
        await CreateConfigMapAsync("outside");
        Assert.Contains("doomed", (await _client.CoreV1.ListNamespaceAsync(cancellationToken: Token)).Items.Select(n => n.Metadata.Name));

        await _client.CoreV1.DeleteNamespaceAsync("doomed", cancellationToken: Token);
        Assert.Null(_fake.Get("configmaps", "doomed", "inside"));
        Assert.NotNull(_fake.Get("configmaps", Ns, "outside"));
        Assert.Null(_fake.Get("namespaces", "", "doomed"));
    }

    [Fact]
    public async Task AWatchSeesAddedModifiedAndDeleted()
    {
        await CreateConfigMapAsync("before");
        var rv = (await _client.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token)).Metadata.ResourceVersion;

        // history after rv, replayed: written before the watch opens
        await CreateConfigMapAsync("w");
        var patch = new JsonObject { ["data"] = new JsonObject { ["k"] = "v" } };
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), "w", Ns, cancellationToken: Token);
        await CreateConfigMapAsync("elsewhere", "other");

        using var watch = new CancellationTokenSource();
        var events = CollectAsync(_client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: rv, cancellationToken: watch.Token));
        await Until(() => _fake.OpenWatches == 1);

        // live: written while it is open
        await _client.CoreV1.DeleteNamespacedConfigMapAsync("w", Ns, cancellationToken: Token);
        _fake.Put(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "put", ["namespace"] = Ns },
            ["data"] = new JsonObject { ["direct"] = "yes" },
        }, "configmaps");

        var seen = await events.WaitForAsync(4, Token);
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted, WatchEventType.Added], seen.Select(e => e.Type));
        Assert.Equal(["w", "w", "w", "put"], seen.Select(e => e.Object.Metadata.Name));
        Assert.Equal("v", seen[2].Object.Data["k"]); // DELETED carries the last state
        Assert.Equal("yes", seen[3].Object.Data["direct"]);
        var versions = seen.Select(e => long.Parse(e.Object.Metadata.ResourceVersion)).ToList();
        Assert.Equal(versions.Order(), versions);
        await watch.CancelAsync(); // (the client closes the connection only after SocketsHttpHandler's 2 s drain timeout)
    }

    [Fact]
    public async Task AWatchWithoutAVersionStartsWithEveryObjectAndFollowsItsSelector()
    {
        await CreateConfigMapAsync("web-1", ("app", "web"));
        await CreateConfigMapAsync("db-1", ("app", "db"));

        using var watch = new CancellationTokenSource();
        var events = CollectAsync(_client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, labelSelector: "app=web", cancellationToken: watch.Token));
        await Until(() => _fake.OpenWatches == 1);
        await CreateConfigMapAsync("db-2", ("app", "db"));
        await CreateConfigMapAsync("web-2", ("app", "web"));
        var relabel = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "db" } } };
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(relabel.ToJsonString(), V1Patch.PatchType.MergePatch), "web-1", Ns, cancellationToken: Token);

        var seen = await events.WaitForAsync(3, Token);
        Assert.Equal([(WatchEventType.Added, "web-1"), (WatchEventType.Added, "web-2"), (WatchEventType.Deleted, "web-1")], seen.Select(e => (e.Type, e.Object.Metadata.Name)));
        await watch.CancelAsync();
    }

    [Fact]
    public async Task AWatchFromACompactedVersionGetsExpired()
    {
        var created = await CreateConfigMapAsync("cm");
        _fake.Compact();

        var errors = new List<Exception>();
        var count = 0;
        await foreach (var _ in _client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: created.Metadata.ResourceVersion, onError: errors.Add, cancellationToken: Token))
        {
            count++;
        }

        Assert.Equal(0, count);
        var expired = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, expired.Status.Code);
        Assert.Equal("Expired", expired.Status.Reason);
        Assert.StartsWith($"too old resource version: {created.Metadata.ResourceVersion} (", expired.Status.Message, StringComparison.Ordinal);

        // a list after the compaction gives a version to watch from again
        var rv = (await _client.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token)).Metadata.ResourceVersion;
        using var watch = new CancellationTokenSource();
        var events = CollectAsync(_client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: rv, cancellationToken: watch.Token));
        await CreateConfigMapAsync("after");
        var seen = await events.WaitForAsync(1, Token);
        Assert.Equal("after", seen[0].Object.Metadata.Name);
        await watch.CancelAsync();
    }

    [Fact]
    public async Task DropWatchesEndsOpenWatchesAbruptly()
    {
        await CreateConfigMapAsync("cm");
        var received = 0;
        var ended = Task.Run(async () =>
        {
            try
            {
                await foreach (var _ in _client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, cancellationToken: Token))
                {
                    Interlocked.Increment(ref received);
                }

                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        });
        await Until(() => Volatile.Read(ref received) == 1); // mid-stream: the ADDED for "cm" came

        _fake.DropWatches();
        var error = await ended.WaitAsync(Token);
        Assert.False(Token.IsCancellationRequested);
        Assert.IsAssignableFrom<IOException>(error); // the response ended without its last chunk, not cleanly
        Assert.Equal(0, _fake.OpenWatches);
    }

    [Fact]
    public async Task TimeoutSecondsEndsAWatchCleanly()
    {
        // (KubernetesClient reads the first event before it returns a watch response: one is there, as on a real cluster
        // where a watch that ends before any event fails in the client.)
        await CreateConfigMapAsync("cm");
        var started = DateTime.UtcNow;
        var events = new List<WatchEventType>();
        await foreach (var (type, _) in _client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, timeoutSeconds: 1, cancellationToken: Token))
        {
            events.Add(type);
        }

        Assert.Equal([WatchEventType.Added], events);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
        await Until(() => _fake.OpenWatches == 0);
    }

    [Fact]
    public async Task FailNextAnswersTheNextMatchingRequestsWithAnError()
    {
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 1), Ns, cancellationToken: Token);
        _fake.FailNext("PATCH", "deployments", 409, times: 2, reason: "Conflict");
        _fake.FailNext("GET", "configmaps", 500);
        _fake.FailNext("list", "secrets", 429);
        _fake.ClearRequests();

        var scale = new V1Patch(new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 2 } }.ToJsonString(), V1Patch.PatchType.MergePatch);
        for (var i = 0; i < 2; i++)
        {
            var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.AppsV1.PatchNamespacedDeploymentAsync(scale, "web", Ns, cancellationToken: Token));
            Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
            Assert.Equal("Conflict", Reason(conflict));
        }

        Assert.Equal(2, (await _client.AppsV1.PatchNamespacedDeploymentAsync(scale, "web", Ns, cancellationToken: Token)).Spec.Replicas);

        var internalError = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.InternalServerError, internalError.Response.StatusCode);
        Assert.Equal("InternalError", Reason(internalError));
        await _client.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token);

        var throttled = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNamespacedSecretAsync(Ns, cancellationToken: Token));
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.Response.StatusCode);
        Assert.Equal("TooManyRequests", Reason(throttled));

        var patches = _fake.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.Equal([409, 409, 200], patches.Select(r => r.StatusCode));
        Assert.All(patches, r =>
        {
            Assert.Equal($"/apis/apps/v1/namespaces/{Ns}/deployments/web", r.Path);
            Assert.Equal("patch", r.Verb);
            Assert.StartsWith("application/merge-patch+json", r.ContentType, StringComparison.Ordinal);
        });
        Assert.Equal(["patch", "patch", "patch", "list", "list", "list"], _fake.Requests.Select(r => r.Verb));
        _fake.ClearRequests();
        Assert.Empty(_fake.Requests);
    }

    [Fact]
    public async Task OneLeaderElectorLeadsWhileItRenewsAndAnotherTakesOverAfter()
    {
        using var clientA = _fake.Client();
        using var clientB = _fake.Client();
        using var a = new LeaderElector(Election(clientA, "a"));
        using var b = new LeaderElector(Election(clientB, "b"));
        var aLeads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bLeads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.OnStartedLeading += () => aLeads.TrySetResult();
        b.OnStartedLeading += () => bLeads.TrySetResult();
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();

        var runA = Run(a, stopA.Token);
        await aLeads.Task.WaitAsync(Token);
        var runB = Run(b, stopB.Token);
        await Task.Delay(TimeSpan.FromSeconds(3.5), Token); // longer than the lease: it is renewed (a lease of 3 s: a loaded CI machine renews late)
        Assert.False(bLeads.Task.IsCompleted);
        Assert.True(a.IsLeader());
        Assert.Equal("a", b.GetLeader());
        var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync("koalja-operator", Ns, cancellationToken: Token);
        Assert.Equal("a", lease.Spec.HolderIdentity);
        Assert.Equal("Lease", lease.Kind);

        await stopA.CancelAsync();
        await runA.WaitAsync(Token);
        await bLeads.Task.WaitAsync(Token); // once the lease expires
        lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync("koalja-operator", Ns, cancellationToken: Token);
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
        await stopB.CancelAsync();
        await runB.WaitAsync(Token);
        Assert.Contains(_fake.Requests, r => r.Verb == "update" && r.Path.EndsWith("/leases/koalja-operator", StringComparison.Ordinal) && r.StatusCode == 200);

        static async Task Run(LeaderElector elector, CancellationToken stop)
        {
            try
            {
                await elector.RunUntilLeadershipLostAsync(stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task AClientThatAsksForHttp2IsServedOverHttp11()
    {
        using var http2 = new Kubernetes(new KubernetesClientConfiguration { Host = _fake.BaseUri.ToString(), DisableHttp2 = false });
        await http2.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("h2"), Ns, cancellationToken: Token);
        Assert.Single((await http2.CoreV1.ListNamespacedConfigMapAsync(Ns, cancellationToken: Token)).Items);
        Assert.StartsWith("http://127.0.0.1:", _fake.BaseUri.ToString(), StringComparison.Ordinal);
    }

    private static LeaderElectionConfig Election(IKubernetes client, string identity) => new(new LeaseLock(client, Ns, "koalja-operator", identity))
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        RenewDeadline = TimeSpan.FromSeconds(2),
        RetryPeriod = TimeSpan.FromMilliseconds(200),
    };

    private static V1ConfigMap ConfigMap(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
        Data = new Dictionary<string, string> { ["name"] = name },
    };

    private Task<V1ConfigMap> CreateConfigMapAsync(string name, params (string Key, string Value)[] labels) => CreateConfigMapAsync(name, Ns, labels);

    private Task<V1ConfigMap> CreateConfigMapAsync(string name, string ns, params (string Key, string Value)[] labels) =>
        _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(name, labels), ns, cancellationToken: Token);

    private static V1Deployment Deployment(string name, int replicas) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "registry.example/app:1" }] },
            },
        },
    };

    private Task<V1Deployment> ApplyAsync(V1Deployment deployment, string manager) =>
        _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deployment, V1Patch.PatchType.ApplyPatch), deployment.Metadata.Name, Ns,
            fieldManager: manager, force: true, cancellationToken: Token);

    private static V1OwnerReference Owner(IKubernetesObject<V1ObjectMeta> owner) => new()
    {
        ApiVersion = owner.ApiVersion,
        Kind = owner.Kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
    };

    private async Task<List<string>> ListAsync(string? labelSelector, string? fieldSelector = null) =>
        Names(await _client.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: labelSelector, fieldSelector: fieldSelector, cancellationToken: Token));

    private static List<string> Names(V1ConfigMapList list) => [.. list.Items.Select(i => i.Metadata.Name)];

    private static string Reason(HttpOperationException e) => JsonNode.Parse(e.Response.Content)!["reason"]!.GetValue<string>();

    private static string Rv(JsonNode obj) => obj["metadata"]!["resourceVersion"]!.GetValue<string>();

    private async Task Until(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10, Token);
        }
    }

    private static EventCollector<T> CollectAsync<T>(IAsyncEnumerable<(WatchEventType Type, T Object)> watch) => new(watch);

    /// <summary>Reads a watch in the background, keeping what it sees.</summary>
    private sealed class EventCollector<T>
    {
        private readonly List<(WatchEventType Type, T Object)> _events = [];
        private readonly Task _reading;

        public EventCollector(IAsyncEnumerable<(WatchEventType Type, T Object)> watch) => _reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watch)
                {
                    lock (_events)
                    {
                        _events.Add(e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        public async Task<List<(WatchEventType Type, T Object)>> WaitForAsync(int count, CancellationToken cancel)
        {
            while (true)
            {
                lock (_events)
                {
                    if (_events.Count >= count)
                    {
                        return [.. _events];
                    }
                }

                if (_reading.IsCompleted)
                {
                    await _reading; // surfaces the error that ended it
                    Assert.Fail($"the watch ended after {_events.Count} event(s), not {count}");
                }

                await Task.Delay(10, cancel);
            }
        }
    }
}
