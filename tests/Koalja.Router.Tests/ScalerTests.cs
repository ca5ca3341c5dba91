using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Scaler.Protocol;

namespace Koalja.Router.Tests;

/// <summary>
/// A pipeline for scaling tests: drops go to an AllNew task (<c>batch</c>) and to a SlidingWindow task (<c>window</c>,
/// four values sliding by two); both wait for a gate file before they finish, so that work piles up while it is closed.
/// </summary>
internal sealed class GatedPipeline : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "koalja-gate-" + Guid.NewGuid().ToString("N")[..8])).FullName; // not in /tmp: a sandboxed command has its own

    public string Gate => Path.Combine(_dir, "open");

    public Core.Spec.Pipeline Pipeline => KoaljaTestServer.Load($$$"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: gated}
        spec:
          tasks:
          - {name: fileDrop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: batch
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text, ready: Succeeded}]
            executor: {image: alpine, command: ["/bin/sh", "-c", "while [ ! -e {{{Gate}}} ]; do sleep 0.02; done; cp {{.inputs.in.path}} {{.outputs.out.path}}"]}
          - name: window
            snapshotPolicy: SlidingWindow
            inputs: [{name: in, typeRef: text, requiredSequenceLength: 4, slide: 2}]
            outputs: [{name: out, typeRef: text, ready: Succeeded}]
            executor: {image: alpine, command: ["/bin/sh", "-c", "while [ ! -e {{{Gate}}} ]; do sleep 0.02; done; cat {{range .inputs.in}} {{.path}} {{end}} > {{.outputs.out.path}}"]}
          links:
          - {name: toBatch, sourceRef: fileDrop/file, destinationRef: batch/in}
          - {name: toWindow, sourceRef: fileDrop/file, destinationRef: window/in}
          types: [{name: text, protocol: File, format: Text}]
        """);

    public void Open() => File.WriteAllText(Gate, "");

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>KEDA's external scaler as the router hosts it, called by a real gRPC client generated from the same proto.</summary>
public sealed class ScalerTests : IDisposable
{
    private readonly GatedPipeline _gated = new();

    public void Dispose() => _gated.Dispose();

    private static ScaledObjectRef Ref(params (string Key, string Value)[] metadata)
    {
        var reference = new ScaledObjectRef { Name = "gated-batch", Namespace = "default" };
        foreach (var (key, value) in metadata)
        {
            reference.ScalerMetadata[key] = value;
        }

        return reference;
    }

    private static ScaledObjectRef Task(string task, params (string Key, string Value)[] more) => Ref([("pipeline", "gated"), ("task", task), .. more]);

    private static ExternalScaler.ExternalScalerClient Client(LocalServer server, out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress(server.ScalerUrl!);
        return new ExternalScaler.ExternalScalerClient(channel);
    }

    private async Task<KoaljaTestServer> StartAsync(int slots = 2, string? data = null, int scalerPort = 0) =>
        await KoaljaTestServer.StartAsync(_gated.Pipeline, new RuntimeOptions { SlotsPerTask = slots, RetryDelay = TimeSpan.FromMilliseconds(50) }, data: data, scalerPort: scalerPort);

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await System.Threading.Tasks.Task.Delay(10);
        }
    }

    [Fact]
    public async Task BadMetadataIsInvalidArgumentNamingEveryProblem()
    {
        await using var koalja = await StartAsync();
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            var bad = Ref(("task", "batch"), ("targetSnapshotPerReplica", "2"), ("maxReplicas", "0"), ("scalerAddress", "router:9090"));
            var calls = new Func<Task>[]
            {
                async () => await scaler.IsActiveAsync(bad),
                async () => await scaler.GetMetricSpecAsync(bad),
                async () => await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = bad, MetricName = "m" }),
                async () =>
                {
                    using var stream = scaler.StreamIsActive(bad);
                    await stream.ResponseStream.MoveNext(CancellationToken.None);
                },
            };
            foreach (var call in calls)
            {
                var e = await Assert.ThrowsAsync<RpcException>(call);
                Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
                Assert.Contains("'pipeline' is required", e.Status.Detail, StringComparison.Ordinal);
                Assert.Contains("unknown key 'targetSnapshotPerReplica'", e.Status.Detail, StringComparison.Ordinal);
                Assert.Contains("targetSnapshotsPerReplica", e.Status.Detail, StringComparison.Ordinal);
                Assert.Contains("'maxReplicas' must be a whole number from 1 to 10,000; it is '0'", e.Status.Detail, StringComparison.Ordinal);
                Assert.DoesNotContain("scalerAddress", e.Status.Detail, StringComparison.Ordinal); // KEDA's own key is left alone
            }

            var noMetricsRef = await Assert.ThrowsAsync<RpcException>(async () => await scaler.GetMetricsAsync(new GetMetricsRequest { MetricName = "m" }));
            Assert.Equal(StatusCode.InvalidArgument, noMetricsRef.StatusCode);
            var twice = await Assert.ThrowsAsync<RpcException>(async () => await scaler.IsActiveAsync(Task("batch", ("pipelineFromEnv", "gated"))));
            Assert.Contains("'pipeline' is given twice", twice.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TargetsThatAreNotHereAreNotFoundAndADropTaskHasNothingToScale()
    {
        await using var koalja = await StartAsync();
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            async Task<RpcException> Refused(ScaledObjectRef reference) => await Assert.ThrowsAsync<RpcException>(async () => await scaler.IsActiveAsync(reference));

            var pipeline = await Refused(Ref(("pipeline", "other"), ("task", "batch")));
            Assert.Equal(StatusCode.NotFound, pipeline.StatusCode);
            Assert.Contains("does not run pipeline 'other' (it runs gated)", pipeline.Status.Detail, StringComparison.Ordinal);

            var task = await Refused(Task("bacth"));
            Assert.Equal(StatusCode.NotFound, task.StatusCode);
            Assert.Contains("no task 'bacth'", task.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("batch", task.Status.Detail[task.Status.Detail.IndexOf('(', StringComparison.Ordinal)..], StringComparison.Ordinal);

            var elsewhere = Task("batch");
            elsewhere.Namespace = "team-b";
            Assert.Equal(StatusCode.NotFound, (await Refused(elsewhere)).StatusCode);

            var drop = await Refused(Task("fileDrop"));
            Assert.Equal(StatusCode.InvalidArgument, drop.StatusCode);
            Assert.Contains("runs no snapshots", drop.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheMetricSpecNamesEachTaskUniquelyWithTheTargetFromMetadata()
    {
        await using var koalja = await StartAsync();
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            var batch = (await scaler.GetMetricSpecAsync(Task("batch", ("targetSnapshotsPerReplica", "3"), ("enableTLS", "false")))).MetricSpecs.Single();
            Assert.StartsWith("koalja-gated-batch-", batch.MetricName, StringComparison.Ordinal);
            Assert.Equal(3, batch.TargetSize);
            Assert.Equal(3.0, batch.TargetSizeFloat);

            var fromEnv = (await scaler.GetMetricSpecAsync(Ref(("pipelineFromEnv", "gated"), ("task", "batch")))).MetricSpecs.Single();
            Assert.Equal(batch.MetricName, fromEnv.MetricName);
            Assert.Equal(1, fromEnv.TargetSize); // the default

            var window = (await scaler.GetMetricSpecAsync(Task("window"))).MetricSpecs.Single();
            Assert.NotEqual(batch.MetricName, window.MetricName);

            using var stream = scaler.StreamMetricSpec(Task("window"));
            Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(window.MetricName, stream.ResponseStream.Current.MetricSpecs.Single().MetricName);
        }
    }

    [Fact]
    public async Task MetricsCountReadyAndRunningSnapshotsBeforeAndAfterDrops()
    {
        await using var koalja = await StartAsync(slots: 2);
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            async Task<long> Metric(string task, params (string, string)[] more)
            {
                var reference = Task(task, more);
                var response = await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = reference, MetricName = "s0-asked" });
                var value = response.MetricValues.Single();
                Assert.Equal("s0-asked", value.MetricName);
                Assert.Equal(value.MetricValue_, (long)value.MetricValueFloat);
                return value.MetricValue_;
            }

            Assert.Equal(0, await Metric("batch"));
            Assert.False((await scaler.IsActiveAsync(Task("batch"))).Result);

            for (var i = 0; i < 8; i++)
            {
                await koalja.DropAsync("gated", "fileDrop", $"value {i}\n");
            }

            // 8 batch snapshots; windows of values 1-4, 3-6 and 5-8.
            await WaitForAsync(() => koalja.Server.Router.Scaling("gated", "batch")!.Load.Work == 8 && koalja.Server.Router.Scaling("gated", "window")!.Load.Work == 3, "8 batch snapshots and 3 windows");
            Assert.Equal(2, koalja.Server.Router.Scaling("gated", "batch")!.Load.InFlight); // both slots are busy, six wait
            Assert.Equal(1, koalja.Server.Router.Scaling("gated", "window")!.Load.InFlight); // one slot: in order
            Assert.Equal(8, await Metric("batch"));
            Assert.Equal(8, await Metric("batch", ("targetSnapshotsPerReplica", "2")));
            Assert.Equal(4, await Metric("batch", ("targetSnapshotsPerReplica", "2"), ("maxReplicas", "2"))); // capped: 2 replicas × 2
            Assert.Equal(1, await Metric("window"));  // 3 windows of work, but one replica's worth
            Assert.Equal(2, await Metric("window", ("targetSnapshotsPerReplica", "2")));
            Assert.True((await scaler.IsActiveAsync(Task("batch"))).Result);
            Assert.True((await scaler.IsActiveAsync(Task("window"))).Result);

            // The same figures, and who runs what, for the operator and koalja status.
            var stats = await koalja.Http.GetFromJsonAsync<JsonElement>("api/pipelines/gated/stats");
            var tasks = stats.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
            var batch = tasks["batch"];
            Assert.Equal((6, 2, 2, 2, 2), (batch.GetProperty("ready").GetInt32(), batch.GetProperty("inFlight").GetInt32(), batch.GetProperty("desiredReplicas").GetInt32(),
                batch.GetProperty("activeSlots").GetInt32(), batch.GetProperty("maxSlots").GetInt32()));
            var replicas = batch.GetProperty("replicas").EnumerateArray().ToList();
            Assert.Equal(["local-batch-0", "local-batch-1"], replicas.Select(r => r.GetProperty("replica").GetString()).Order(StringComparer.Ordinal));
            Assert.All(replicas, r => Assert.True(r.GetProperty("deletionCost").GetInt32() > 0));
            Assert.All(replicas, r => Assert.Single(r.GetProperty("snapshots").EnumerateArray()));
            Assert.True(tasks["window"].GetProperty("orderSensitive").GetBoolean());
            Assert.Equal(1, tasks["window"].GetProperty("maxSlots").GetInt32());
            Assert.False(tasks["fileDrop"].GetProperty("runsSnapshots").GetBoolean());
            var links = stats.GetProperty("links").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("queued").GetInt64());
            Assert.Equal(0, links["toBatch"]); // each value is in a snapshot already
            Assert.InRange(links["toWindow"], 0, 8);
            using var unknown = await koalja.Http.GetAsync("api/pipelines/nope/stats");
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

            _gated.Open();
            await koalja.WaitIdleAsync("gated");
            Assert.Equal(0, await Metric("batch"));
            Assert.False((await scaler.IsActiveAsync(Task("window"))).Result);
        }
    }

    [Fact]
    public async Task AWindowThatIsNotFullNeverActivates()
    {
        await using var koalja = await StartAsync();
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            _gated.Open();
            using var stream = scaler.StreamIsActive(Task("window"));
            Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
            Assert.False(stream.ResponseStream.Current.Result);
            for (var i = 0; i < 3; i++)
            {
                await koalja.DropAsync("gated", "fileDrop", $"value {i}\n");
            }

            await koalja.WaitIdleAsync("gated");
            Assert.Equal(3, (await koalja.ValuesAsync("gated", "batch")).Count); // the batch task ran each one
            Assert.False((await scaler.IsActiveAsync(Task("window"))).Result);
            Assert.Equal(0, (await scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = Task("window") })).MetricValues.Single().MetricValue_);

            // Nothing was pushed for the window: the next message is the fourth value filling it.
            var next = stream.ResponseStream.MoveNext(CancellationToken.None);
            await System.Threading.Tasks.Task.Delay(200);
            Assert.False(next.IsCompleted);
            await koalja.DropAsync("gated", "fileDrop", "value 3\n");
            Assert.True(await next);
            Assert.True(stream.ResponseStream.Current.Result);
        }
    }

    [Fact]
    public async Task StreamIsActivePushesEachChangeAndLetsGoWhenCancelled()
    {
        await using var koalja = await StartAsync();
        var scaler = Client(koalja.Server, out var channel);
        using (channel)
        {
            using var cancel = new CancellationTokenSource();
            using var stream = scaler.StreamIsActive(Task("batch"), cancellationToken: cancel.Token);
            var heard = new List<bool>();
            async Task<bool> NextAsync()
            {
                Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
                heard.Add(stream.ResponseStream.Current.Result);
                return stream.ResponseStream.Current.Result;
            }

            Assert.False(await NextAsync()); // the state now, at once
            await koalja.DropAsync("gated", "fileDrop", "a\n");
            Assert.True(await NextAsync());
            await koalja.DropAsync("gated", "fileDrop", "b\n"); // still active: nothing to say

            // Running (taken from the queue, waiting for the gate) is still work: no "inactive" while it runs.
            var next = NextAsync();
            await WaitForAsync(() => koalja.Server.Router.Scaling("gated", "batch")!.Load.InFlight == 2, "both snapshots to run");
            await System.Threading.Tasks.Task.Delay(200);
            Assert.False(next.IsCompleted);
            Assert.True((await scaler.IsActiveAsync(Task("batch"))).Result);
            _gated.Open();
            Assert.False(await next);
            Assert.Equal([false, true, false], heard);

            var dispatcher = koalja.Server.Router.Pipelines["gated"].Dispatchers["batch"];
            Assert.Equal(1, dispatcher.LoadWatchers);
            await cancel.CancelAsync();
            var e = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.Cancelled, e.StatusCode);
            await WaitForAsync(() => dispatcher.LoadWatchers == 0, "the cancelled stream to stop watching");
        }
    }

    [Fact]
    public async Task AfterARouterRestartAReconnectingClientHearsTheRecoveredStateFirst()
    {
        var data = Directory.CreateTempSubdirectory("koalja-scaler-restart-").FullName;
        var port = FreePort();
        try
        {
            var first = await StartAsync(data: data, scalerPort: port);
            var scaler = Client(first.Server, out var channel);
            using (channel)
            {
                using var stream = scaler.StreamIsActive(Task("batch"));
                Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
                Assert.False(stream.ResponseStream.Current.Result);
                await first.DropAsync("gated", "fileDrop", "a\n");
                Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
                Assert.True(stream.ResponseStream.Current.Result);

                await first.DisposeAsync(); // the router stops with a snapshot unfinished: the stream ends
                try
                {
                    Assert.False(await stream.ResponseStream.MoveNext(CancellationToken.None));
                }
                catch (RpcException e)
                {
                    Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled or StatusCode.Internal, e.ToString());
                }
            }

            await using var second = await StartAsync(data: data, scalerPort: port);
            using var again = GrpcChannel.ForAddress(second.Server.ScalerUrl!);
            var reconnected = new ExternalScaler.ExternalScalerClient(again);
            using var resumed = reconnected.StreamIsActive(Task("batch"));
            Assert.True(await resumed.ResponseStream.MoveNext(CancellationToken.None));
            Assert.True(resumed.ResponseStream.Current.Result); // the snapshot the first router left runs again
            _gated.Open();
            Assert.True(await resumed.ResponseStream.MoveNext(CancellationToken.None));
            Assert.False(resumed.ResponseStream.Current.Result);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task TheScalerPortServesNothingElseAndTheApiPortNoScaler()
    {
        await using var koalja = await StartAsync();
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var api = await h2c.GetAsync(new Uri(koalja.Server.ScalerUrl!, "api/pipelines"));
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);

        using var channel = GrpcChannel.ForAddress(koalja.Server.Url, new GrpcChannelOptions { HttpVersion = HttpVersion.Version11 });
        var onApiPort = new ExternalScaler.ExternalScalerClient(channel);
        await Assert.ThrowsAsync<RpcException>(async () => await onApiPort.IsActiveAsync(Task("batch")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The sample ScaledObject in infra/ is one the scaler accepts, for a task of the example it names.</summary>
public sealed class ScaledObjectSampleTests
{
    [Fact]
    public async Task TheSampleTriggerIsAcceptedByTheScalerForTheExampleTask()
    {
        var path = Path.Combine(KoaljaTestServer.RepositoryRoot, "infra", "keda", "task-scaledobject.yaml");
        var yaml = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(path));
        var spec = (Dictionary<object, object>)yaml["spec"];
        var trigger = (Dictionary<object, object>)((List<object>)spec["triggers"]).Single();
        Assert.Equal("external-push", trigger["type"]);
        var metadata = ((Dictionary<object, object>)trigger["metadata"]).ToDictionary(p => (string)p.Key, p => (string)p.Value);
        var target = Scaler.ScalerTarget.Parse("default", metadata);
        Assert.Equal(int.Parse((string)spec["maxReplicaCount"], System.Globalization.CultureInfo.InvariantCulture), target.MaxReplicas);

        await using var koalja = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example(target.Pipeline), scalerPort: 0);
        using var channel = GrpcChannel.ForAddress(koalja.Server.ScalerUrl!);
        var scaler = new ExternalScaler.ExternalScalerClient(channel);
        var reference = new ScaledObjectRef { Name = "linecount-countlines", Namespace = "default" };
        reference.ScalerMetadata.Add(metadata);
        var spec0 = (await scaler.GetMetricSpecAsync(reference)).MetricSpecs.Single();
        Assert.Equal(target.TargetSnapshotsPerReplica, spec0.TargetSize);
        Assert.False((await scaler.IsActiveAsync(reference)).Result);
    }
}
