using System.CommandLine;
using k8s;
using Koalja.Operator;
using Koalja.Operator.Controller;
using Microsoft.Extensions.Logging;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja operator</c>: runs the Kubernetes operator (what the operator image starts): competes for the Lease,
/// and while leading reconciles Pipeline resources. In a pod it uses its service account; elsewhere the kubeconfig
/// (<c>--kubeconfig</c>, else <c>KUBECONFIG</c>, else <c>~/.kube/config</c>).
/// </summary>
internal static class OperatorCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var defaults = new OperatorSettings();
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "A kubeconfig file (default: the pod's service account, else KUBECONFIG or ~/.kube/config)" };
        var ns = new Option<string>("--namespace", "-n") { Description = "The operator's namespace: its Lease and the cluster-wide ConfigMaps (default: POD_NAMESPACE, else koalja-system)", DefaultValueFactory = _ => Env("POD_NAMESPACE") ?? "koalja-system" };
        var watch = new Option<string?>("--watch-namespace") { Description = "Only this namespace's pipelines (default: every namespace)", DefaultValueFactory = _ => Env("KOALJA_WATCH_NAMESPACE") };
        var identity = new Option<string>("--identity") { Description = "This replica's name in the Lease (default: POD_NAME, else the host name)", DefaultValueFactory = _ => Env("POD_NAME") ?? Environment.MachineName };
        var routerImage = new Option<string>("--router-image") { Description = "The routers' image", DefaultValueFactory = _ => Env("KOALJA_ROUTER_IMAGE") ?? defaults.RouterImage };
        var taskImage = new Option<string>("--task-image") { Description = "The task functions' image", DefaultValueFactory = _ => Env("KOALJA_TASK_IMAGE") ?? defaults.TaskImage };
        var pullPolicy = new Option<string>("--image-pull-policy") { Description = "Always, IfNotPresent or Never", DefaultValueFactory = _ => Env("KOALJA_IMAGE_PULL_POLICY") ?? defaults.ImagePullPolicy };
        pullPolicy.AcceptOnlyFromAmong("Always", "IfNotPresent", "Never");
        var ingress = new Option<string>("--ingress") { Description = "httpproxy (Contour), ingress (networking.k8s.io/v1) or none", DefaultValueFactory = _ => Env("KOALJA_INGRESS") ?? "httpproxy" };
        ingress.AcceptOnlyFromAmong("httpproxy", "ingress", "none");
        var ingressClass = new Option<string?>("--ingress-class") { Description = "The Ingress class (with --ingress ingress)", DefaultValueFactory = _ => Env("KOALJA_INGRESS_CLASS") };
        var maxReplicas = new Option<int>("--max-replicas") { Description = "A task's most replicas unless the task says (order-sensitive tasks: 1)", DefaultValueFactory = _ => int.TryParse(Env("KOALJA_MAX_REPLICAS"), out var m) ? m : defaults.DefaultMaxReplicas };
        var storageType = new Option<string?>("--storage-type") { Description = "local, s3 (ConfigMap koalja-s3-storage-config) or azure (koalja-azure-storage-config) (default: STORAGETYPE)", DefaultValueFactory = _ => Env("STORAGETYPE") };
        var resync = new Option<double>("--resync") { Description = "Seconds between full reconciles of every pipeline", DefaultValueFactory = _ => 300.0 };
        var workers = new Option<int>("--workers") { Description = "Pipelines reconciled at once", DefaultValueFactory = _ => 4 };
        var verbose = new Option<bool>("--verbose") { Description = "Log every reconcile step (debug)" };
        var command = new Command("operator", "Run the Kubernetes operator: reconcile Pipeline resources into routers, task functions and ScaledObjects")
        {
            kubeconfig, ns, watch, identity, routerImage, taskImage, pullPolicy, ingress, ingressClass, maxReplicas, storageType, resync, workers, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new OperatorOptions
            {
                Namespace = parse.GetValue(ns)!,
                WatchNamespace = parse.GetValue(watch),
                Identity = parse.GetValue(identity)!,
                StorageType = parse.GetValue(storageType),
                ResyncPeriod = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(resync))),
                Workers = Math.Max(1, parse.GetValue(workers)),
                Settings = defaults with
                {
                    RouterImage = parse.GetValue(routerImage)!,
                    TaskImage = parse.GetValue(taskImage)!,
                    ImagePullPolicy = parse.GetValue(pullPolicy)!,
                    Ingress = parse.GetValue(ingress) switch { "ingress" => IngressKind.Ingress, "none" => IngressKind.None, _ => IngressKind.HttpProxy },
                    IngressClassName = parse.GetValue(ingressClass),
                    DefaultMaxReplicas = parse.GetValue(maxReplicas),
                },
            };
            var problems = options.Settings.Problems().ToList();
            if (!KubeNames.IsDnsLabel(options.Namespace))
            {
                problems.Add($"the namespace '{options.Namespace}' is not a DNS-1123 label");
            }

            if (options.StorageType is { } type && type.Trim().ToLowerInvariant() is not ("" or "local" or "s3" or "azure"))
            {
                problems.Add($"STORAGETYPE is local, s3 or azure, not '{type}'");
            }

            if (problems.Count > 0)
            {
                stderr.WriteLine($"koalja: {string.Join("; ", problems)}");
                return 2;
            }

            KubernetesClientConfiguration config;
            try
            {
                config = parse.GetValue(kubeconfig) is { } file ? KubernetesClientConfiguration.BuildConfigFromConfigFile(file)
                    : KubernetesClientConfiguration.IsInCluster() ? KubernetesClientConfiguration.InClusterConfig()
                    : KubernetesClientConfiguration.BuildDefaultConfig();
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"koalja: no usable Kubernetes configuration: {e.Message}");
                return 1;
            }

            using var loggers = LoggerFactory.Create(b => b
                .AddKoaljaConsole()
                .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information)
                .AddFilter("System.Net.Http", LogLevel.Warning));
            using var kube = new Kubernetes(config);
            stdout.WriteLine($"Koalja operator {options.Identity} — API server {config.Host}, namespace {options.Namespace}, watching {options.WatchNamespace ?? "every namespace"}");
            stdout.Flush();
            await OperatorHost.RunAsync(kube, options, loggers, cancellationToken);
            return 0;
        });
        return command;
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
