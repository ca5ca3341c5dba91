using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Koalja.Core.Spec;
using Koalja.Operator.Controller;
using Koalja.Operator.Tests.Fake;
using Koalja.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using YamlDotNet.Serialization;

namespace Koalja.Operator.Tests.Cluster;

/// <summary>An API server the controller suite runs against: the in-process fake, or a real kube-apiserver.</summary>
public abstract class ClusterBackend : IAsyncLifetime
{
    public abstract IKubernetes Client { get; }

    /// <summary>The fake, for fault injection; null on a real server.</summary>
    public virtual FakeKubeApi? Fake => null;

    /// <summary>Whether deleting an owner deletes what it owns (kube-controller-manager's garbage collector, or the fake's).</summary>
    public virtual bool CollectsGarbage => true;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>A fresh namespace for one test.</summary>
    public async Task<string> NamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    /// <summary>Creates a Pipeline resource from a pipeline file's text (YAML), in <paramref name="ns"/>.</summary>
    public async Task<JsonElement> CreatePipelineAsync(string ns, string yaml, Action<JsonObject>? edit = null)
    {
        var body = Json(yaml);
        body["metadata"]!.AsObject()["namespace"] = ns;
        edit?.Invoke(body);
        return await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonElement>(body, Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural);
    }

    public async Task<JsonNode?> PipelineAsync(string ns, string name)
    {
        try
        {
            var element = await Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name);
            return JsonNode.Parse(element.GetRawText());
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A YAML document as JSON (unquoted numbers and booleans typed, as kubectl sends them).</summary>
    public static JsonObject Json(string yaml)
    {
        var value = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object>(yaml);
        return JsonSerializer.SerializeToNode(value)!.AsObject();
    }

    public static string Example(string name) => File.ReadAllText(Path.Combine(Repository.Root, "examples", name + ".yaml"));
}

/// <summary>The in-process fake API server (tests/Koalja.Operator.Tests/Fake): fast, every run, with fault injection.</summary>
public sealed class FakeBackend : ClusterBackend
{
    private FakeKubeApi? _fake;
    private Kubernetes? _client;

    public override IKubernetes Client => _client ?? throw new InvalidOperationException("not started");

    public override FakeKubeApi? Fake => _fake;

    public override async Task InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync();
        _client = _fake.Client();
    }

    public override async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_fake is not null)
        {
            await _fake.DisposeAsync();
        }
    }
}

/// <summary>
/// A real kube-apiserver v1.20.2 with etcd and kube-controller-manager (tests/servers/kubernetes, started by
/// ./run-tests or on first use), with the Pipeline CRD from infra/ and minimal KEDA and Contour CRDs applied.
/// </summary>
public sealed class RealBackend : ClusterBackend, IDisposable
{
    private Kubernetes? _client;

    public override IKubernetes Client => _client ?? throw new InvalidOperationException("not started");

    public override async Task InitializeAsync()
    {
        _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(TestServers.Kubeconfig));
        var crds = new List<V1CustomResourceDefinition> { PipelineCrd.Build() };
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "crds"), "*.yaml"))
        {
            crds.Add(KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file)));
        }

        foreach (var crd in crds)
        {
            await _client.ApiextensionsV1.PatchCustomResourceDefinitionAsync(new V1Patch(crd, V1Patch.PatchType.ApplyPatch), crd.Metadata.Name,
                fieldManager: "koalja-tests", force: true);
        }

        foreach (var crd in crds)
        {
            await Eventually.Until(async () =>
            {
                var read = await _client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name);
                return read.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") ?? false;
            }, $"CRD {crd.Metadata.Name} established");
        }
    }

    public override Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _client?.Dispose();
}

/// <summary>Polling for what a controller brings about.</summary>
public static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                last = e;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Not true within {(timeout ?? Timeout).TotalSeconds} s: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }
}

/// <summary>A controller (or an operator host) running for one test, in its namespace.</summary>
public sealed class RunningOperator : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private RunningOperator(PipelineController? controller, Func<CancellationToken, Task> run)
    {
        Controller = controller;
        _run = Task.Run(() => run(_stop.Token));
    }

    public PipelineController? Controller { get; private set; }

    public static OperatorOptions Options(string ns) => new()
    {
        Namespace = ns,
        WatchNamespace = ns,
        Workers = 2,
        ResyncPeriod = TimeSpan.FromMinutes(10),
        MaxRetryDelay = TimeSpan.FromSeconds(2),
        Settings = new OperatorSettings { ImagePullPolicy = "Never" },
    };

    /// <summary>KOALJA_TEST_LOG=1 shows the operator's log on the console, for debugging a test.</summary>
    private static readonly ILoggerFactory Logs = Environment.GetEnvironmentVariable("KOALJA_TEST_LOG") == "1"
        ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Debug))
        : NullLoggerFactory.Instance;

    public static RunningOperator Start(IKubernetes kube, OperatorOptions options)
    {
        var controller = new PipelineController(kube, options, Logs.CreateLogger("Koalja.Operator.Controller"));
        return new RunningOperator(controller, controller.RunAsync);
    }

    /// <summary>The whole operator: leader election, then the controller.</summary>
    public static RunningOperator Host(IKubernetes kube, OperatorOptions options, Action<PipelineController>? onLeading = null)
    {
        RunningOperator? running = null;
        running = new RunningOperator(null, ct => OperatorHost.RunAsync(kube, options, Logs, ct, c =>
        {
            running!.Controller = c;
            onLeading?.Invoke(c);
        }));
        return running;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
