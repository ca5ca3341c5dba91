using System.CommandLine;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Operator;

namespace Koalja.Cli.Commands;

/// <summary><c>koalja render FILE...</c>: prints the Kubernetes objects the operator makes for each pipeline, for review and GitOps.</summary>
internal static class RenderCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Argument<string[]>("files") { Description = "Pipeline files (YAML or JSON)", Arity = ArgumentArity.OneOrMore };
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace the pipeline goes into (default: its own, else default)" };
        var domain = new Option<string>("--domain") { Description = "Domain suffix of the pipeline's host <pipeline>.<namespace>.<suffix>", DefaultValueFactory = _ => "example.com" };
        var ingress = new Option<string>("--ingress") { Description = "httpproxy (Contour), ingress (networking.k8s.io/v1) or none", DefaultValueFactory = _ => "httpproxy" };
        ingress.AcceptOnlyFromAmong("httpproxy", "ingress", "none");
        var routerImage = new Option<string>("--router-image") { Description = "The router's image", DefaultValueFactory = _ => new OperatorSettings().RouterImage };
        var taskImage = new Option<string>("--task-image") { Description = "The task functions' image", DefaultValueFactory = _ => new OperatorSettings().TaskImage };
        var pullPolicy = new Option<string>("--image-pull-policy") { Description = "Always, IfNotPresent or Never (images imported into the node)", DefaultValueFactory = _ => "IfNotPresent" };
        pullPolicy.AcceptOnlyFromAmong("Always", "IfNotPresent", "Never");
        var maxReplicas = new Option<int>("--max-replicas") { Description = "A task's most replicas (order-sensitive tasks: 1)", DefaultValueFactory = _ => new OperatorSettings().DefaultMaxReplicas };
        var s3Bucket = new Option<string?>("--s3-bucket") { Description = "Store values in this S3 bucket (else a shared volume)" };
        var s3Endpoint = new Option<string?>("--s3-endpoint") { Description = "The S3 endpoint URL (default: AWS)" };
        var s3Secret = new Option<string>("--s3-secret") { Description = "The Secret with keys access-key and secret-key", DefaultValueFactory = _ => "koalja-s3-storage" };
        var registrySecret = new Option<string?>("--registry-secret") { Description = "A Secret whose key url is the PostgreSQL registry (else SQLite on the router's volume)" };
        var command = new Command("render", "Print the Kubernetes objects the operator makes for pipelines")
        {
            files, ns, domain, ingress, routerImage, taskImage, pullPolicy, maxReplicas, s3Bucket, s3Endpoint, s3Secret, registrySecret,
        };
        command.SetAction(parse =>
        {
            var settings = new OperatorSettings
            {
                RouterImage = parse.GetValue(routerImage)!,
                TaskImage = parse.GetValue(taskImage)!,
                ImagePullPolicy = parse.GetValue(pullPolicy)!,
                DefaultMaxReplicas = parse.GetValue(maxReplicas),
                Ingress = parse.GetValue(ingress) switch { "ingress" => IngressKind.Ingress, "none" => IngressKind.None, _ => IngressKind.HttpProxy },
                Storage = parse.GetValue(s3Bucket) is { } bucket ? StorageConfig.S3(bucket, parse.GetValue(s3Endpoint), parse.GetValue(s3Secret)!) : StorageConfig.Local(),
                RegistrySecret = parse.GetValue(registrySecret),
            };
            if (settings.Problems() is { Count: > 0 } problems)
            {
                stderr.WriteLine($"koalja: {string.Join("; ", problems)}");
                return 1;
            }

            var suffix = parse.GetValue(domain)!;
            try
            {
                DomainConfig.Parse(new Dictionary<string, string> { [suffix] = "" }, "--domain");
            }
            catch (FormatException)
            {
                stderr.WriteLine($"koalja: --domain '{suffix}' is not a domain suffix (DNS labels of lower-case letters, digits and '-', joined by '.')");
                return 1;
            }

            var documents = new List<string>();
            foreach (var result in parse.GetValue(files)!.Select(PipelineLoader.LoadFile))
            {
                ValidateCommand.WriteDiagnostics(result, result.Diagnostics.Where(d => d.Severity != Severity.Note), stderr);
                if (!result.Succeeded)
                {
                    return 1;
                }

                foreach (var pipeline in result.Pipelines.Select(p => p.Pipeline))
                {
                    var target = parse.GetValue(ns) ?? (pipeline.Metadata.Namespace is { Length: > 0 } own ? own : "default");
                    if (!KubeNames.IsDnsLabel(target))
                    {
                        stderr.WriteLine($"koalja: namespace '{target}' is not a DNS-1123 label");
                        return 1;
                    }

                    var host = $"{pipeline.Name}.{target}.{suffix}";
                    documents.Add(PipelineManifests.ToYaml(PipelineManifests.Build(pipeline, new ManifestTarget(target, host), settings)));
                }
            }

            stdout.Write(string.Join("---\n", documents));
            return 0;
        });
        return command;
    }
}
