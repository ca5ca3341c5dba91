using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using k8s;
using k8s.Models;
using Koalja.Scaler.Protocol;
using Koalja.Testing;
using Xunit.Abstractions;

namespace Koalja.Cluster.Tests;

/// <summary>
/// Koalja on a real Kubernetes node, end to end, as a user meets it: kubectl applies the install and a pipeline; the
/// operator (a pod, with the install's ServiceAccount and RBAC) makes the router and task function pods; files dropped
/// into the router by its pod IP come out of the last task, with lineage naming the code versions and the pods that
/// ran each execution; dropped code is used by the task pods; a task pod and the router pod deleted in the middle of
/// 200 drops lose none and duplicate none; an invalid Pipeline gets Valid=False; the scaler answers a real gRPC
/// client; deleting the Pipeline removes every child.
/// </summary>
public sealed class NodeEndToEndTests(Node node, ITestOutputHelper output) : IClassFixture<Node>, IDisposable
{
    private DevCluster Cluster => node.Cluster;

    private const string Pipeline = "linecount";
    private const string Ns = Node.Namespace;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private string _router = "";

    [NodeFact]
    public async Task ApplyDropFollowLineageDropCodeKillPodsAndDelete()
    {
        node.Report(output);

        // kubectl apply of the example: router and task pods Running, Ready=True.
        var clock = Stopwatch.StartNew();
        Cluster.Kubectl(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "examples", "linecount.yaml")), "-n", Ns, "apply", "-f", "-");
        var status = await StatusAsync(Pipeline, s => Condition(s, "Ready")?["status"]?.GetValue<string>() == "True");
        var applyToReady = clock.Elapsed;
        Assert.Equal("True", Condition(status, "Valid")!["status"]!.GetValue<string>());
        await RouterAsync();
        _http.DefaultRequestHeaders.Add("x-functions-key", Cluster.AdminKey(Ns, Pipeline));

        // Drops by pod IP give the final outputs; lineage reaches the drop, names code versions and pods.
        var latencies = new List<double>();
        string? firstFinal = null;
        string? firstDrop = null;
        for (var i = 0; i < 20; i++)
        {
            var text = string.Concat(Enumerable.Range(0, i + 2).Select(n => $"line {n / 2}\n")); // pairs of equal lines: uniq halves them
            var sent = Stopwatch.StartNew();
            var drop = await DropAsync(text, $"first-{i}");
            var final = await FinalAsync(drop, TimeSpan.FromMinutes(i == 0 ? 3 : 1));
            latencies.Add(sent.Elapsed.TotalMilliseconds);
            Assert.Equal($"{(i + 3) / 2}", (await ContentAsync(final)).Trim());
            (firstDrop, firstFinal) = (firstDrop ?? drop, firstFinal ?? final);
        }

        var taskPods = (await PodsAsync("task")).Select(p => p.Name()).ToHashSet(StringComparer.Ordinal);
        var lineage = await GetJsonAsync($"api/values/{firstFinal}/lineage");
        Assert.Contains(lineage.GetProperty("values").EnumerateArray(), v => v.GetProperty("value").GetProperty("id").GetString() == firstDrop);
        var executions = lineage.GetProperty("executions").EnumerateArray().ToList();
        Assert.Equal(["countLines", "removeDuplicates"], executions.Select(e => e.GetProperty("task").GetString()).Order(StringComparer.Ordinal));
        Assert.All(executions, e =>
        {
            Assert.False(string.IsNullOrEmpty(e.GetProperty("codeVersion").GetString()));
            Assert.Contains(e.GetProperty("execution").GetProperty("worker").GetString() ?? "(none)", taskPods); // the pod that ran it
        });

        // Code dropped through the API is what the task pods run for later snapshots.
        using var code = new StringContent("#!/bin/sh\necho \"lines: $(wc -l < \"$KOALJA_INPUT_INPUTFILE\")\" > \"$KOALJA_OUTPUT_OUTPUTFILE\"\n");
        using var put = await _http.PutAsync(Url($"api/pipelines/{Pipeline}/tasks/countLines/code"), code);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var version = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetProperty("id").GetString();
        var withCode = await FinalAsync(await DropAsync("a\nb\nb\nc\n", "code-1"), TimeSpan.FromMinutes(1));
        Assert.Equal("lines: 3", (await ContentAsync(withCode)).Trim());
        Assert.Equal(version, (await GetJsonAsync($"api/values/{withCode}")).GetProperty("value").GetProperty("codeVersion").GetString());

        // 200 drops; a task pod and then the router pod deleted on the way: each acknowledged drop, exactly one final output.
        var drops = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            if (i == 60)
            {
                Cluster.Kubectl(null, "-n", Ns, "delete", "pod", "--wait=false", (await PodsAsync("task", "countLines")).First().Name());
            }

            if (i == 120)
            {
                Cluster.Kubectl(null, "-n", Ns, "delete", "pod", "--wait=false", (await PodsAsync("router")).First().Name());
            }

            drops.Add(await DropAsync($"kill test {i}\n", $"kill-{i}"));
        }

        var lost = drops;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (lost.Count > 0 && DateTime.UtcNow < deadline)
        {
            var still = new List<string>();
            foreach (var drop in lost)
            {
                var finals = await FinalsAsync(drop);
                Assert.True(finals.Count <= 1, $"drop {drop} has {finals.Count} final outputs");
                if (finals.Count == 0)
                {
                    still.Add(drop);
                }
            }

            lost = still;
            if (lost.Count > 0)
            {
                await Task.Delay(1000);
            }
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of 200 acknowledged drops have no final output: {string.Join(", ", lost.Take(5))}");
        Assert.Equal(drops.Count, drops.Distinct(StringComparer.Ordinal).Count());

        // The scaler, as KEDA calls it, on the router's scaler port, with the ScaledObject's own metadata.
        var scaled = await Cluster.Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>("keda.sh", "v1alpha1", Ns, "scaledobjects", Koalja.Operator.KubeNames.Task(Pipeline, "countLines"));
        Assert.Equal(Koalja.Operator.KubeNames.Task(Pipeline, "countLines"), scaled["spec"]!["scaleTargetRef"]!["name"]!.GetValue<string>());
        var trigger = scaled["spec"]!["triggers"]![0]!;
        Assert.Equal("external-push", trigger["type"]!.GetValue<string>());
        var reference = new ScaledObjectRef { Name = scaled["metadata"]!["name"]!.GetValue<string>(), Namespace = Ns };
        foreach (var (name, value) in trigger["metadata"]!.AsObject())
        {
            reference.ScalerMetadata[name] = value!.GetValue<string>();
        }

        using (var channel = GrpcChannel.ForAddress($"http://{_router}:{Koalja.Operator.OperatorSettings.RouterScalerPort}"))
        {
            var scaler = new ExternalScaler.ExternalScalerClient(channel);
            var spec = await scaler.GetMetricSpecAsync(reference);
            var metric = Assert.Single(spec.MetricSpecs);
            async Task<long> MetricAsync() => Assert.Single((await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = reference, MetricName = metric.MetricName })).MetricValues).MetricValue_;
            Assert.Equal(0, await MetricAsync()); // idle: nothing ready, nothing in flight
            Assert.False((await scaler.IsActiveAsync(reference)).Result);

            // Scaled to zero, as KEDA would leave an idle task: work for it is the metric and makes it active; a replica takes it.
            var countLines = Koalja.Operator.KubeNames.Task(Pipeline, "countLines");
            Cluster.Kubectl(null, "-n", Ns, "scale", "deployment", countLines, "--replicas=0");
            await UntilAsync(async () => (await Cluster.Kube.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: $"koalja.aljabr.io/task=countLines")).Items.Count == 0,
                "no countLines pod", Patience);
            var waiting = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                waiting.Add(await DropAsync($"scaled to zero {i}\n", $"zero-{i}"));
            }

            // 3 snapshots ready, capped at what the task's most replicas take (the trigger's maxReplicas × targetSnapshotsPerReplica).
            var expected = Math.Min(3, long.Parse(reference.ScalerMetadata["maxReplicas"], CultureInfo.InvariantCulture) * long.Parse(reference.ScalerMetadata["targetSnapshotsPerReplica"], CultureInfo.InvariantCulture));
            await UntilAsync(async () => await MetricAsync() == expected, $"the metric counting the snapshots countLines has no replica for ({expected})", Patience);
            Assert.True((await scaler.IsActiveAsync(reference)).Result);
            Cluster.Kubectl(null, "-n", Ns, "scale", "deployment", countLines, "--replicas=1");
            foreach (var drop in waiting)
            {
                await FinalAsync(drop, Patience);
            }

            await UntilAsync(async () => await MetricAsync() == 0 && !(await scaler.IsActiveAsync(reference)).Result, "the scaler idle again", Patience);
        }

        // An invalid Pipeline: Valid=False with its errors.
        var broken = (await File.ReadAllTextAsync(Path.Combine(Repository.Root, "examples", "linecount.yaml")))
            .Replace("name: linecount", "name: broken", StringComparison.Ordinal).Replace("destinationRef: countLines/inputFile", "destinationRef: nowhere/inputFile", StringComparison.Ordinal);
        Cluster.Kubectl(broken, "-n", Ns, "apply", "-f", "-");
        var invalid = await StatusAsync("broken", s => Condition(s, "Valid")?["status"]?.GetValue<string>() == "False");
        Assert.Contains("nowhere", Condition(invalid, "Valid")!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Deleting the Pipeline removes every child (finalizer, owner references).
        Cluster.Kubectl(null, "-n", Ns, "delete", "pipeline", Pipeline, "--wait=false");
        await UntilAsync(async () => (await ChildrenAsync()).Count == 0, "every child of the deleted Pipeline gone", TimeSpan.FromMinutes(3));

        latencies.Sort();
        output.WriteLine($"apply -> Ready: {applyToReady.TotalSeconds:F1} s");
        output.WriteLine($"drop -> final output over pods (20 sequential drops, polled every 20 ms): p50 {latencies[latencies.Count / 2]:F0} ms, max {latencies[^1]:F0} ms (the first includes the pods' first snapshot)");
    }

    public void Dispose() => _http.Dispose();

    private Uri Url(string path) => new($"http://{_router}:{Koalja.Operator.OperatorSettings.RouterHttpPort}/{path}");

    /// <summary>A drop with an Idempotency-Key, sent again (to the router's current pod) until it is acknowledged: a retry after a lost answer gives the same value.</summary>
    private async Task<string> DropAsync(string text, string idempotencyKey)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, Url($"pipelines/{Pipeline}/fileDropInput")) { Content = new StringContent(text, Encoding.UTF8, "text/plain") };
                request.Headers.Add("Idempotency-Key", idempotencyKey);
                using var response = await _http.SendAsync(request);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
                }

                Assert.True((int)response.StatusCode >= 500, $"a drop got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // the router pod is being replaced
            }

            Assert.True(DateTime.UtcNow < deadline, $"drop {idempotencyKey} not acknowledged within {Patience.TotalMinutes} min");
            await Task.Delay(500);
            await RouterAsync();
        }
    }

    private async Task<List<string>> FinalsAsync(string drop)
    {
        var affected = await GetJsonAsync($"api/values/{drop}/affected");
        var list = affected.ValueKind == JsonValueKind.Array ? affected : affected.GetProperty("values");
        return [.. list.EnumerateArray().Select(a => a.GetProperty("value")).Where(v => v.GetProperty("task").GetString() == "countLines").Select(v => v.GetProperty("id").GetString()!)];
    }

    private async Task<string> FinalAsync(string drop, TimeSpan within)
    {
        string? final = null;
        await UntilAsync(async () => (final = (await FinalsAsync(drop)).SingleOrDefault()) is not null, $"the final output of drop {drop}", within, TimeSpan.FromMilliseconds(20));
        return final!;
    }

    private async Task<string> ContentAsync(string value) => await GetWithRetryAsync(() => _http.GetStringAsync(Url($"api/values/{value}/content")));

    private async Task<JsonElement> GetJsonAsync(string path) =>
        await GetWithRetryAsync(async () => JsonDocument.Parse(await _http.GetStringAsync(Url(path))).RootElement.Clone());

    /// <summary>A read, again at the router's current address while its pod is replaced.</summary>
    private async Task<T> GetWithRetryAsync<T>(Func<Task<T>> read)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await read();
            }
            catch (Exception e) when ((e is HttpRequestException { StatusCode: null or >= HttpStatusCode.InternalServerError } or TaskCanceledException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                await RouterAsync();
            }
        }
    }

    private async Task RouterAsync() => _router = await Cluster.RouterAsync(Ns, Pipeline, Patience);

    private Task<List<V1Pod>> PodsAsync(string component, string? task = null) => Cluster.PodsAsync(Ns, Pipeline, component, task);

    private Task<JsonNode> StatusAsync(string name, Func<JsonNode, bool> until) => Cluster.StatusAsync(Ns, name, until, Patience);

    private static JsonNode? Condition(JsonNode status, string type) => DevCluster.Condition(status, type);

    private static Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan within, TimeSpan? every = null) => DevCluster.UntilAsync(condition, what, within, every);

    private async Task<List<string>> ChildrenAsync()
    {
        var selector = $"koalja.aljabr.io/pipeline={Pipeline}";
        var k = Cluster.Kube;
        var names = new List<string>();
        names.AddRange((await k.AppsV1.ListNamespacedDeploymentAsync(Ns, labelSelector: selector)).Items.Select(o => "deployment/" + o.Name()));
        names.AddRange((await k.CoreV1.ListNamespacedServiceAsync(Ns, labelSelector: selector)).Items.Select(o => "service/" + o.Name()));
        names.AddRange((await k.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: selector)).Items.Select(o => "configmap/" + o.Name()));
        names.AddRange((await k.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Ns, labelSelector: selector)).Items.Select(o => "pvc/" + o.Name()));
        names.AddRange((await k.CoreV1.ListNamespacedServiceAccountAsync(Ns, labelSelector: selector)).Items.Select(o => "serviceaccount/" + o.Name()));
        names.AddRange((await k.RbacAuthorizationV1.ListNamespacedRoleAsync(Ns, labelSelector: selector)).Items.Select(o => "role/" + o.Name()));
        names.AddRange((await k.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(Ns, labelSelector: selector)).Items.Select(o => "rolebinding/" + o.Name()));
        names.AddRange((await k.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: selector)).Items.Select(o => "pod/" + o.Name()));
        var scaled = await k.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>("keda.sh", "v1alpha1", Ns, "scaledobjects", labelSelector: selector);
        names.AddRange(scaled["items"]!.AsArray().Select(o => "scaledobject/" + o!["metadata"]!["name"]!.GetValue<string>()));
        var pipelines = await k.CustomObjects.ListNamespacedCustomObjectAsync<JsonNode>("koalja.aljabr.io", "v1alpha1", Ns, "pipelines");
        names.AddRange(pipelines["items"]!.AsArray().Select(o => o!["metadata"]!["name"]!.GetValue<string>()).Where(n => n == Pipeline).Select(n => "pipeline/" + n));
        return names;
    }
}
