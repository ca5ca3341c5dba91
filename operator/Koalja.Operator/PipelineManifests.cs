using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Koalja.Core.Scaling;
using Koalja.Core.Spec;

namespace Koalja.Operator;

/// <summary>Where a pipeline's objects go: its namespace, its host name (null: no ingress), the Pipeline resource that owns them (null when rendered).</summary>
public sealed record ManifestTarget(string Namespace, string? Host, V1OwnerReference? Owner = null);

/// <summary>
/// The objects one <c>Pipeline</c> needs, built purely from its spec and the operator's settings, in the order they
/// are applied: the pipeline's ConfigMap (the pipeline document and its tasks' function URLs), the router's volume,
/// Deployment and Service (HTTP API and scaler), per task with inputs its function's Deployment, headless Service and
/// KEDA ScaledObject, and the ingress for <c>&lt;pipeline&gt;.&lt;namespace&gt;.&lt;suffix&gt;</c>. The controller applies
/// them; <c>koalja render</c> prints them.
/// </summary>
public static class PipelineManifests
{
    public const string PipelineLabel = "koalja.aljabr.io/pipeline";
    public const string TaskLabel = "koalja.aljabr.io/task";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string ExecutorImageAnnotation = "koalja.aljabr.io/executor-image";
    public const string PipelineFile = "pipeline.json";
    public const string TaskUrlsFile = "tasks.json";
    private const string ConfigMount = "/etc/koalja/pipeline";
    private const string RouterData = "/var/lib/koalja/router";

    /// <summary>The objects as one YAML stream (documents separated by <c>---</c>), as <c>koalja render</c> prints them.</summary>
    public static string ToYaml(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects) =>
        string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));

    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Build(Pipeline pipeline, ManifestTarget target, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(settings);
        var problems = settings.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("The operator's settings are not usable: " + string.Join("; ", problems), nameof(settings));
        }

        var objects = new List<IKubernetesObject<V1ObjectMeta>> { PipelineConfig(pipeline, target) };
        if (settings.Storage.SharedVolumeClaim == "")
        {
            objects.Add(Claim(pipeline, target, ValuesClaim(pipeline.Name), "ReadWriteMany", "10Gi", "values"));
        }

        objects.Add(Claim(pipeline, target, KubeNames.Router(pipeline.Name), "ReadWriteOnce", settings.RouterVolumeSize, "router"));
        objects.AddRange(RouterIdentity(pipeline, target));
        objects.Add(RouterDeployment(pipeline, target, settings));
        objects.Add(RouterService(pipeline, target));
        foreach (var task in Scaled(pipeline))
        {
            objects.Add(TaskDeployment(pipeline, task, target, settings));
            objects.Add(TaskService(pipeline, task, target));
            objects.Add(TaskScaledObject(pipeline, task, target, settings));
        }

        if (target.Host is { } host && settings.Ingress != IngressKind.None)
        {
            objects.Add(settings.Ingress == IngressKind.HttpProxy ? Proxy(pipeline, target, host) : Ingress(pipeline, target, host, settings));
        }

        return objects;
    }

    /// <summary>The tasks that get a function: those that run snapshots (a task with inputs).</summary>
    public static IEnumerable<TaskSpec> Scaled(Pipeline pipeline) => pipeline.Spec.Tasks.Where(t => t.SnapshotInputs.Any());

    /// <summary>
    /// The URL the router sends a task's snapshots to: its headless Service's name and the container's port. The router
    /// finds the replicas behind the name from the Service's Endpoints (<c>--task-discovery kubernetes</c>), not DNS.
    /// </summary>
    public static string FunctionUrl(Pipeline pipeline, TaskSpec task, string @namespace) =>
        $"http://{KubeNames.Task(pipeline.Name, task.Name)}.{@namespace}.svc:{OperatorSettings.TaskServicePort}/";

    /// <summary>
    /// The pipeline as a <c>Pipeline</c> resource for <paramref name="namespace"/>, as <c>koalja apply</c> submits it: the
    /// document in file shape (every field typed as the CRD's schema has it), with the pipeline's labels (domain
    /// selectors match them) and annotations.
    /// </summary>
    public static JsonObject Resource(Pipeline pipeline, string @namespace)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var resource = Document(pipeline, @namespace);
        var metadata = resource["metadata"]!.AsObject();
        if (pipeline.Metadata.Labels.Count > 0)
        {
            metadata["labels"] = new JsonObject([.. pipeline.Metadata.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]);
        }

        if (pipeline.Metadata.Annotations.Count > 0)
        {
            metadata["annotations"] = new JsonObject([.. pipeline.Metadata.Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
        }

        return resource;
    }

    private static JsonObject Document(Pipeline pipeline, string @namespace) => new()
    {
        ["apiVersion"] = pipeline.ApiVersion,
        ["kind"] = pipeline.Kind,
        ["metadata"] = new JsonObject { ["name"] = pipeline.Name, ["namespace"] = @namespace },
        ["spec"] = FileShape(JsonNode.Parse(PipelineSpecJson.Serialize(pipeline.Spec))!),
    };

    /// <summary>The pipeline document the router loads, and where each task's function listens.</summary>
    private static V1ConfigMap PipelineConfig(Pipeline pipeline, ManifestTarget target)
    {
        var document = Document(pipeline, target.Namespace);
        var urls = new JsonObject();
        foreach (var task in Scaled(pipeline))
        {
            urls[task.Name] = FunctionUrl(pipeline, task, target.Namespace);
        }

        var indented = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Meta(pipeline, target, KubeNames.Join(pipeline.Name, "pipeline"), "pipeline"),
            Data = new Dictionary<string, string>
            {
                [PipelineFile] = document.ToJsonString(indented) + "\n",
                [TaskUrlsFile] = urls.ToJsonString(indented) + "\n",
            },
        };
    }

    /// <summary>
    /// The spec as a pipeline file writes it: an executor's container fields the model keeps aside (<c>otherFields</c>:
    /// <c>resources</c> and the like) go back into the executor.
    /// </summary>
    private static JsonNode FileShape(JsonNode spec)
    {
        foreach (var task in spec["tasks"]?.AsArray() ?? [])
        {
            if (task?["executor"] is JsonObject executor && executor["otherFields"] is JsonObject other)
            {
                executor.Remove("otherFields");
                foreach (var (name, value) in other.ToList())
                {
                    other.Remove(name);
                    executor[name] = value;
                }
            }
        }

        return spec;
    }

    private static string ValuesClaim(string pipeline) => KubeNames.Join(pipeline, "values");

    private static V1PersistentVolumeClaim Claim(Pipeline pipeline, ManifestTarget target, string name, string mode, string size, string component) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = Meta(pipeline, target, name, component),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = [mode],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(size) } },
        },
    };

    private static V1Deployment RouterDeployment(Pipeline pipeline, ManifestTarget target, OperatorSettings settings)
    {
        var name = KubeNames.Router(pipeline.Name);
        var labels = Labels(pipeline, "router");
        var args = new List<string>
        {
            "up", $"{ConfigMount}/{PipelineFile}", "--task-host", "remote", "--task-urls", $"{ConfigMount}/{TaskUrlsFile}",
            "--listen", "0.0.0.0", "--port", $"{OperatorSettings.RouterHttpPort}", "--scaler-port", $"{OperatorSettings.RouterScalerPort}",
            "--data", RouterData, "--allow-host", $"{name}.{target.Namespace}.svc", "--task-discovery", "kubernetes",
        };
        if (target.Host is { } host)
        {
            args.AddRange(["--allow-host", host]);
        }

        var env = new List<V1EnvVar>(settings.Storage.Environment);
        if (settings.RegistrySecret is { } registry)
        {
            env.Add(StorageConfig.FromSecret("KOALJA_REGISTRY", registry, "url"));
        }

        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "pipeline", MountPath = ConfigMount, ReadOnlyProperty = true },
            new() { Name = "data", MountPath = RouterData },
        };
        var volumes = new List<V1Volume>
        {
            new() { Name = "pipeline", ConfigMap = new V1ConfigMapVolumeSource { Name = KubeNames.Join(pipeline.Name, "pipeline") } },
            new() { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = name } },
        };
        AddValuesVolume(pipeline, settings, mounts, volumes);
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Meta(pipeline, target, name, "router"),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1, // the only writer of the registry; a second waits for the first's lease
                Strategy = new V1DeploymentStrategy { Type = "Recreate" }, // the volume is ReadWriteOnce
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = name, // reads its task Services' Endpoints (RouterIdentity)
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "router",
                                Image = settings.RouterImage,
                                ImagePullPolicy = settings.ImagePullPolicy,
                                Args = args,
                                Env = env,
                                Ports =
                                [
                                    new V1ContainerPort { Name = "http", ContainerPort = OperatorSettings.RouterHttpPort, Protocol = "TCP" },
                                    new V1ContainerPort { Name = "scaler", ContainerPort = OperatorSettings.RouterScalerPort, Protocol = "TCP" },
                                ],
                                ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = "http" }, PeriodSeconds = 5 },
                                VolumeMounts = mounts,
                            },
                        ],
                        Volumes = volumes,
                    },
                },
            },
        };
    }

    /// <summary>
    /// The router's ServiceAccount, and a Role bound to it that reads Endpoints in the pipeline's namespace: the router
    /// watches its task Services' Endpoints to know each ready replica's address at once (no cluster DNS, no caching
    /// delay, a pod being deleted leaves at once), and nothing else.
    /// </summary>
    private static IKubernetesObject<V1ObjectMeta>[] RouterIdentity(Pipeline pipeline, ManifestTarget target)
    {
        var name = KubeNames.Router(pipeline.Name);
        return
        [
            new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = Meta(pipeline, target, name, "router") },
            new V1Role
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "Role",
                Metadata = Meta(pipeline, target, name, "router"),
                Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["endpoints"], Verbs = [.. RouterEndpointVerbs] }],
            },
            new V1RoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1",
                Kind = "RoleBinding",
                Metadata = Meta(pipeline, target, name, "router"),
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = name },
                Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = name, NamespaceProperty = target.Namespace }],
            },
        ];
    }

    /// <summary>What a router may do with Endpoints (the operator holds the same, so that it may grant them).</summary>
    public static IReadOnlyList<string> RouterEndpointVerbs { get; } = ["get", "list", "watch"];

    private static V1Service RouterService(Pipeline pipeline, ManifestTarget target) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Meta(pipeline, target, KubeNames.Router(pipeline.Name), "router"),
        Spec = new V1ServiceSpec
        {
            Selector = Labels(pipeline, "router"),
            Ports =
            [
                new V1ServicePort { Name = "http", Port = OperatorSettings.RouterHttpPort, TargetPort = "http", Protocol = "TCP" },
                new V1ServicePort { Name = "scaler", Port = OperatorSettings.RouterScalerPort, TargetPort = "scaler", Protocol = "TCP", AppProtocol = "kubernetes.io/h2c" },
            ],
        },
    };

    private static V1Deployment TaskDeployment(Pipeline pipeline, TaskSpec task, ManifestTarget target, OperatorSettings settings)
    {
        var name = KubeNames.Task(pipeline.Name, task.Name);
        var labels = Labels(pipeline, "task", task.Name);
        var executorImage = task.Executor?.Image;
        var image = settings.UseExecutorImages && executorImage is { Length: > 0 } ? executorImage : settings.TaskImage;
        var env = new List<V1EnvVar>(settings.Storage.Environment)
        {
            StorageConfig.Env("KOALJA_ROUTER_URL", $"http://{KubeNames.Router(pipeline.Name)}.{target.Namespace}.svc:{OperatorSettings.RouterHttpPort}"),
            StorageConfig.Env("KOALJA_COMMAND_TIMEOUT", $"{settings.CommandTimeoutSeconds}"),
            // Each execution's provenance names the pod that ran it.
            new() { Name = "KOALJA_WORKER_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
        };
        foreach (var variable in task.Executor?.Env ?? [])
        {
            env.Add(variable.ValueFrom is { } from
                ? new V1EnvVar { Name = variable.Name, ValueFrom = KubernetesJson.Deserialize<V1EnvVarSource>(from.GetRawText()) }
                : StorageConfig.Env(variable.Name, variable.Value ?? ""));
        }

        var mounts = new List<V1VolumeMount> { new() { Name = "work", MountPath = "/koalja" } };
        var volumes = new List<V1Volume> { new() { Name = "work", EmptyDir = new V1EmptyDirVolumeSource() } };
        AddValuesVolume(pipeline, settings, mounts, volumes);
        var annotations = executorImage is { Length: > 0 } ? new Dictionary<string, string> { [ExecutorImageAnnotation] = executorImage } : null;
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Meta(pipeline, target, name, "task", task.Name, annotations),
            Spec = new V1DeploymentSpec
            {
                Replicas = null, // KEDA owns it (to zero after the cooldown); written, every apply would fight it
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        AutomountServiceAccountToken = false, // a task function never calls the API server; its commands get no token
                        // A busy replica finishes its snapshot when it is removed (docs/scaling.md): the command's timeout and a margin.
                        TerminationGracePeriodSeconds = settings.CommandTimeoutSeconds + 30,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "task",
                                Image = image,
                                ImagePullPolicy = settings.ImagePullPolicy,
                                Env = env,
                                Ports = [new V1ContainerPort { Name = "http", ContainerPort = OperatorSettings.TaskFunctionPort, Protocol = "TCP" }],
                                Resources = Resources(task),
                                VolumeMounts = mounts,
                            },
                        ],
                        Volumes = volumes,
                    },
                },
            },
        };
    }

    /// <summary>Headless: its name resolves to each ready replica, so that the router picks one and knows which runs what.</summary>
    private static V1Service TaskService(Pipeline pipeline, TaskSpec task, ManifestTarget target) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Meta(pipeline, target, KubeNames.Task(pipeline.Name, task.Name), "task", task.Name),
        Spec = new V1ServiceSpec
        {
            ClusterIP = "None",
            Selector = Labels(pipeline, "task", task.Name),
            Ports = [new V1ServicePort { Name = "http", Port = OperatorSettings.TaskServicePort, TargetPort = "http", Protocol = "TCP" }],
        },
    };

    private static ScaledObject TaskScaledObject(Pipeline pipeline, TaskSpec task, ManifestTarget target, OperatorSettings settings)
    {
        var name = KubeNames.Task(pipeline.Name, task.Name);
        // The task's maxReplicas when it sets one, else the operator's default; one when order-sensitive.
        var max = ScalingDecision.MaxReplicas(ScalingDecision.IsOrderSensitive(task),
            ScalingDecision.LimitsFor(task, 0, settings.DefaultMaxReplicas, settings.TargetSnapshotsPerReplica));
        var trigger = new ScaleTrigger { Type = "external-push", MetricType = "AverageValue" };
        trigger.Metadata["scalerAddress"] = $"{KubeNames.Router(pipeline.Name)}.{target.Namespace}.svc:{OperatorSettings.RouterScalerPort}";
        trigger.Metadata["pipeline"] = pipeline.Name;
        trigger.Metadata["task"] = task.Name;
        trigger.Metadata["targetSnapshotsPerReplica"] = $"{settings.TargetSnapshotsPerReplica}";
        trigger.Metadata["maxReplicas"] = $"{max}";
        return new ScaledObject
        {
            Metadata = Meta(pipeline, target, name, "task", task.Name),
            Spec = new ScaledObjectSpec
            {
                ScaleTargetRef = new ScaleTargetRef { Name = name },
                PollingInterval = settings.PollingIntervalSeconds,
                CooldownPeriod = settings.CooldownSeconds,
                MinReplicaCount = 0,
                MaxReplicaCount = max,
                Triggers = [trigger],
            },
        };
    }

    private static HttpProxy Proxy(Pipeline pipeline, ManifestTarget target, string host) => new()
    {
        Metadata = Meta(pipeline, target, KubeNames.Ingress(pipeline.Name), "ingress"),
        Spec = new HttpProxySpec
        {
            VirtualHost = new HttpProxyVirtualHost { Fqdn = host },
            Routes =
            [
                new HttpProxyRoute
                {
                    Conditions = [new HttpProxyCondition { Prefix = "/" }],
                    EnableWebsockets = true,
                    TimeoutPolicy = new HttpProxyTimeouts(),
                    Services = [new HttpProxyService { Name = KubeNames.Router(pipeline.Name), Port = OperatorSettings.RouterHttpPort }],
                },
            ],
        },
    };

    private static V1Ingress Ingress(Pipeline pipeline, ManifestTarget target, string host, OperatorSettings settings) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "Ingress",
        Metadata = Meta(pipeline, target, KubeNames.Ingress(pipeline.Name), "ingress"),
        Spec = new V1IngressSpec
        {
            IngressClassName = settings.IngressClassName,
            Rules =
            [
                new V1IngressRule
                {
                    Host = host,
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = "/",
                                PathType = "Prefix",
                                Backend = new V1IngressBackend
                                {
                                    Service = new V1IngressServiceBackend
                                    {
                                        Name = KubeNames.Router(pipeline.Name),
                                        Port = new V1ServiceBackendPort { Number = OperatorSettings.RouterHttpPort },
                                    },
                                },
                            },
                        ],
                    },
                },
            ],
        },
    };

    private static void AddValuesVolume(Pipeline pipeline, OperatorSettings settings, List<V1VolumeMount> mounts, List<V1Volume> volumes)
    {
        if (settings.Storage.SharedVolumeClaim is { } claim)
        {
            mounts.Add(new V1VolumeMount { Name = "values", MountPath = StorageConfig.MountPath });
            volumes.Add(new V1Volume
            {
                Name = "values",
                PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim.Length > 0 ? claim : ValuesClaim(pipeline.Name) },
            });
        }
    }

    /// <summary>The executor's <c>resources</c> as written (requests and limits), for the task function's container.</summary>
    private static V1ResourceRequirements? Resources(TaskSpec task) =>
        task.Executor?.OtherFields.TryGetValue("resources", out var resources) == true
            ? KubernetesJson.Deserialize<V1ResourceRequirements>(resources.GetRawText())
            : null;

    private static Dictionary<string, string> Labels(Pipeline pipeline, string component, string? task = null)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["app.kubernetes.io/part-of"] = "koalja",
            ["app.kubernetes.io/managed-by"] = "koalja-operator",
            [ComponentLabel] = component,
            [PipelineLabel] = pipeline.Name,
        };
        if (task is not null)
        {
            labels[TaskLabel] = task;
        }

        return labels;
    }

    private static V1ObjectMeta Meta(Pipeline pipeline, ManifestTarget target, string name, string component, string? task = null,
        IDictionary<string, string>? annotations = null) => new()
    {
        Name = name,
        NamespaceProperty = target.Namespace,
        Labels = Labels(pipeline, component, task),
        Annotations = annotations,
        OwnerReferences = target.Owner is { } owner ? [owner] : null,
    };
}
