using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Operator;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja apply FILE...</c>: validates pipeline files here, submits each as a <c>Pipeline</c> resource to the
/// current kube context (server-side apply), and waits until the operator has seen this version and says it is
/// <c>Ready</c>, printing each change of its conditions; an invalid pipeline prints the operator's errors and fails.
/// </summary>
internal static class ApplyCommand
{
    private const string FieldManager = "koalja-cli";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("files") { Description = "Pipeline files (YAML or JSON)", Arity = ArgumentArity.OneOrMore };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "A kubeconfig file (default: KUBECONFIG, else ~/.kube/config)" };
        var context = new Option<string?>("--context") { Description = "The kubeconfig context (default: its current one)" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "The namespace (default: the pipeline's own, else the context's, else default)" };
        var noWait = new Option<bool>("--no-wait") { Description = "Submit and return, without waiting for Ready" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for Ready", DefaultValueFactory = _ => 300.0 };
        var command = new Command("apply", "Submit pipelines to Kubernetes and wait until the operator has them running")
        {
            files, kubeconfig, context, ns, noWait, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var pipelines = new List<Pipeline>();
            foreach (var result in parse.GetValue(files)!.Select(PipelineLoader.LoadFile))
            {
                ValidateCommand.WriteDiagnostics(result, result.Diagnostics.Where(d => d.Severity != Severity.Note), stderr);
                if (!result.Succeeded)
                {
                    return 1;
                }

                pipelines.AddRange(result.Pipelines.Select(p => p.Pipeline));
            }

            KubernetesClientConfiguration config;
            try
            {
                // KUBECONFIG may list several files; the first that exists is used (merging them is kubectl's, not ours)
                var file = parse.GetValue(kubeconfig)
                    ?? Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists);
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(file, parse.GetValue(context));
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"koalja: no usable kubeconfig: {e.Message}");
                return 1;
            }

            using var kube = new Kubernetes(config);
            var deadline = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout)));
            var failed = false;
            foreach (var pipeline in pipelines)
            {
                var target = parse.GetValue(ns) ?? (pipeline.Metadata.Namespace is { Length: > 0 } own ? own : config.Namespace ?? "default");
                try
                {
                    var applied = await kube.CustomObjects.PatchNamespacedCustomObjectAsync<JsonElement>(
                        new V1Patch(PipelineManifests.Resource(pipeline, target).ToJsonString(), V1Patch.PatchType.ApplyPatch),
                        Pipeline.Group, Pipeline.Version, target, PipelineCrd.Plural, pipeline.Name, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
                    var generation = applied.GetProperty("metadata").GetProperty("generation").GetInt64();
                    stdout.WriteLine($"pipeline {target}/{pipeline.Name} applied (generation {generation})");
                    if (!parse.GetValue(noWait))
                    {
                        failed |= !await WaitAsync(kube, target, pipeline.Name, generation, deadline, stdout, stderr, cancellationToken);
                    }
                }
                catch (HttpOperationException e)
                {
                    stderr.WriteLine($"koalja: {target}/{pipeline.Name}: the API server refused it: {(int)e.Response.StatusCode} {KubeErrors.Message(e)}"
                        + (e.Response.StatusCode == HttpStatusCode.NotFound ? " (is the Pipeline CRD installed? kubectl apply -k infra/install)" : ""));
                    failed = true;
                }
                catch (HttpRequestException e)
                {
                    stderr.WriteLine($"koalja: cannot reach the API server {config.Host}: {e.Message}");
                    return 1;
                }
            }

            return failed ? 1 : 0;
        });
        return command;
    }

    /// <summary>Polls the status until the operator has observed <paramref name="generation"/> and the pipeline is Ready (true) or not Valid (false).</summary>
    private static async Task<bool> WaitAsync(Kubernetes kube, string ns, string name, long generation, TimeSpan timeout,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        var said = "";
        try
        {
            while (true)
            {
                var resource = JsonNode.Parse((await kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Pipeline.Group, Pipeline.Version, ns, PipelineCrd.Plural, name,
                    cancellationToken: limit.Token)).GetRawText())!;
                var status = resource["status"];
                var observed = status?["observedGeneration"]?.GetValue<long>() ?? 0;
                var conditions = (status?["conditions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
                string? Field(string type, string field) => conditions.FirstOrDefault(c => (string?)c["type"] == type)?[field]?.GetValue<string>();
                if (observed >= generation)
                {
                    var now = $"Valid={Field("Valid", "status")} Ready={Field("Ready", "status")} ({Field("Ready", "reason")}: {Field("Ready", "message")})";
                    if (now != said)
                    {
                        stdout.WriteLine($"  {ns}/{name}: {now}");
                        stdout.Flush();
                        said = now;
                    }

                    if (Field("Valid", "status") == "False")
                    {
                        stderr.WriteLine($"koalja: {ns}/{name} is not valid:");
                        foreach (var line in (Field("Valid", "message") ?? "").Split('\n'))
                        {
                            stderr.WriteLine($"  {line}");
                        }

                        return false;
                    }

                    if (Field("Ready", "status") == "True")
                    {
                        stdout.WriteLine($"pipeline {ns}/{name} is ready" + (status?["url"]?.GetValue<string>() is { } url ? $": {url}" : "") + $" (in the cluster: {status?["router"]})");
                        return true;
                    }
                }
                else if (said == "")
                {
                    stdout.WriteLine($"  {ns}/{name}: waiting for the operator to see generation {generation} (is it running? kubectl -n koalja-system get pods)");
                    said = "waiting";
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), limit.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            stderr.WriteLine($"koalja: {ns}/{name} was not ready within {timeout.TotalSeconds:0} s; last: {(said is "" or "waiting" ? "the operator did not report" : said)}");
            return false;
        }
    }
}
