using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Operator;
using Koalja.Operator.Controller;
using Koalja.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Koalja.Benchmarks;

/// <summary>
/// The operator against a real kube-apiserver v1.20.2 + etcd + kube-controller-manager (tests/servers/kubernetes):
/// (1) from the server-side apply of the linecount Pipeline (what <c>koalja apply</c> and <c>kubectl apply</c> send)
/// to all its children created and its status written, beside the same children applied directly by one client in
/// the same run (the API server's own floor); (2) reconciling 100 pipelines: cold (1,100 objects to create), and warm
/// (an operator restart that finds nothing to change), beside the same applies sent directly.
/// </summary>
internal static class OperatorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var runs = RuntimeBenchmark.Arg(args, "--runs", 20);
        var many = RuntimeBenchmark.Arg(args, "--pipelines", 100);
        var dir = Directory.CreateTempSubdirectory("koalja-bench-k8s-").FullName;
        var script = Path.Combine(Repository.Root, "tests", "servers", "kubernetes");
        try
        {
            Run(script, "start", dir, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            using var kube = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Path.Combine(dir, "kubeconfig")));
            await InstallCrdsAsync(kube);
            await kube.CoreV1.CreateNamespaceAsync(Namespace("koalja-system"));
            var pipeline = PipelineLoader.LoadFile(Path.Combine(Repository.Root, "examples", "linecount.yaml")).Pipelines[0].Pipeline;
            var version = (await kube.Version.GetCodeAsync()).GitVersion;
            Console.WriteLine($"Koalja operator benchmark: kube-apiserver {version} (etcd without fsync), {Environment.ProcessorCount} cores, linecount = 11 objects");

            // (1) apply → children, one pipeline at a time, each in a new namespace.
            var options = new OperatorOptions { Namespace = "koalja-system", Identity = "bench", Workers = 4 };
            var op = Start(kube, options);
            var operatorTimes = new List<double>();
            var directTimes = new List<double>();
            for (var i = 0; i < runs + 2; i++)
            {
                var ns = $"apply-{i}";
                await kube.CoreV1.CreateNamespaceAsync(Namespace(ns));
                var watch = Stopwatch.StartNew();
                await ApplyPipelineAsync(kube, pipeline, ns, pipeline.Name);
                await UntilAsync(async () => Reported(await GetAsync(kube, ns, pipeline.Name)), TimeSpan.FromMilliseconds(2));
                var took = watch.Elapsed.TotalMilliseconds;

                var direct = $"direct-{i}";
                await kube.CoreV1.CreateNamespaceAsync(Namespace(direct));
                watch.Restart();
                foreach (var obj in PipelineManifests.Build(pipeline, new ManifestTarget(direct, $"linecount.{direct}.example.com"), options.Settings))
                {
                    await ServerSideApply.ApplyAsync(kube, obj); // as the operator applies it, with nothing around it
                }

                if (i >= 2)
                {
                    // the first two warm up connections and the JIT
                    operatorTimes.Add(took);
                    directTimes.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            await op.Stop();
            Console.WriteLine();
            Console.WriteLine($"| apply → all children created and status written ({runs} runs) | p50 | p95 |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| operator (apply Pipeline, watch, build, 11 server-side applies, prune lists, status) | {P(operatorTimes, 50):F1} ms | {P(operatorTimes, 95):F1} ms |");
            Console.WriteLine($"| reference: the same 11 server-side applies sent directly by one client | {P(directTimes, 50):F1} ms | {P(directTimes, 95):F1} ms |");

            // (2) 100 pipelines: created while no operator runs, then one operator starts.
            await kube.CoreV1.CreateNamespaceAsync(Namespace("many"));
            for (var i = 0; i < many; i++)
            {
                await ApplyPipelineAsync(kube, pipeline, "many", $"p{i:D3}");
            }

            var cold = Stopwatch.StartNew();
            op = Start(kube, options);
            await UntilAsync(async () => await CountReportedAsync(kube, "many") == many, TimeSpan.FromMilliseconds(100));
            var coldTime = cold.Elapsed;
            await op.Stop();

            var warm = Stopwatch.StartNew();
            op = Start(kube, options);
            await UntilAsync(() => Task.FromResult(op.Controller is { } c && c.Reconciles >= many + runs + 2 && c.Queued == 0), TimeSpan.FromMilliseconds(5));
            var warmTime = warm.Elapsed;
            var reconciles = op.Controller!.Reconciles;
            await op.Stop();

            await kube.CoreV1.CreateNamespaceAsync(Namespace("many-direct"));
            var directMany = Stopwatch.StartNew();
            for (var i = 0; i < many; i++)
            {
                foreach (var obj in PipelineManifests.Build(pipeline with { Metadata = pipeline.Metadata with { Name = $"p{i:D3}" } },
                    new ManifestTarget("many-direct", $"p{i:D3}.many-direct.example.com"), options.Settings))
                {
                    await ServerSideApply.ApplyAsync(kube, obj); // as the operator applies it, with nothing around it
                }
            }

            var directManyTime = directMany.Elapsed;
            Console.WriteLine();
            Console.WriteLine($"| {many} pipelines ({many * 11} objects) | total | per pipeline |");
            Console.WriteLine("|---|---|---|");
            Console.WriteLine($"| cold: operator starts, lists, creates every object, writes every status | {coldTime.TotalSeconds:F2} s | {coldTime.TotalMilliseconds / many:F1} ms |");
            Console.WriteLine($"| warm: operator restarts, finds nothing to change ({reconciles} reconciles, {runs + 2} other pipelines included) | {warmTime.TotalSeconds:F2} s | {warmTime.TotalMilliseconds / reconciles:F1} ms |");
            Console.WriteLine($"| reference: the same {many * 11} server-side applies sent directly, one at a time | {directManyTime.TotalSeconds:F2} s | {directManyTime.TotalMilliseconds / many:F1} ms |");
            return 0;
        }
        finally
        {
            Run(script, "stop", dir);
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class Running(Task run, CancellationTokenSource stop)
    {
        public PipelineController? Controller { get; set; }

        public async Task Stop()
        {
            await stop.CancelAsync();
            await run;
            stop.Dispose();
        }
    }

    private static Running Start(IKubernetes kube, OperatorOptions options)
    {
        var stop = new CancellationTokenSource();
        Running? running = null;
        var run = Task.Run(() => OperatorHost.RunAsync(kube, options with { LeaseDuration = TimeSpan.FromSeconds(1), RenewDeadline = TimeSpan.FromSeconds(0.8), RetryPeriod = TimeSpan.FromMilliseconds(100) },
            NullLoggerFactory.Instance, stop.Token, c => running!.Controller = c));
        running = new Running(run, stop);
        return running;
    }

    private static async Task InstallCrdsAsync(Kubernetes kube)
    {
        var crds = new List<V1CustomResourceDefinition> { PipelineCrd.Build() };
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Root, "tests", "Koalja.Operator.Tests", "crds"), "*.yaml"))
        {
            crds.Add(KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file)));
        }

        foreach (var crd in crds)
        {
            await kube.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        }

        foreach (var crd in crds)
        {
            await UntilAsync(async () => (await kube.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name)).Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") ?? false,
                TimeSpan.FromMilliseconds(50));
        }
    }

    private static Task<JsonElement> ApplyPipelineAsync(Kubernetes kube, Pipeline pipeline, string ns, string name) =>
        kube.CustomObjects.PatchNamespacedCustomObjectAsync<JsonElement>(
            new V1Patch(PipelineManifests.Resource(pipeline with { Metadata = pipeline.Metadata with { Name = name } }, ns).ToJsonString(), V1Patch.PatchType.ApplyPatch),
            Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name, fieldManager: "koalja-bench", force: true);

    private static async Task<JsonNode?> GetAsync(Kubernetes kube, string ns, string name) =>
        JsonNode.Parse((await kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name)).GetRawText());

    private static async Task<int> CountReportedAsync(Kubernetes kube, string ns)
    {
        var list = JsonNode.Parse((await kube.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural)).GetRawText())!;
        return list["items"]!.AsArray().Count(Reported);
    }

    /// <summary>The operator has written the status of this generation: every child applied.</summary>
    private static bool Reported(JsonNode? pipeline) =>
        pipeline?["status"]?["observedGeneration"]?.GetValue<long>() == pipeline?["metadata"]?["generation"]?.GetValue<long>()
        && pipeline?["status"]?["conditions"] is JsonArray { Count: 2 };

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan poll)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("the operator did not get there within 5 minutes");
            }

            await Task.Delay(poll);
        }
    }

    private static V1Namespace Namespace(string name) => new() { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = name } };

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }

    private static void Run(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(script) { RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', arguments)} failed: {error}");
        }
    }
}
