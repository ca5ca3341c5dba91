using k8s.Models;

namespace Koalja.Operator;

/// <summary>How the operator builds a pipeline's objects: images, ingress, scaling defaults, storage and registry.</summary>
public sealed record OperatorSettings
{
    public const int RouterHttpPort = 8080;
    public const int RouterScalerPort = 9090;
    public const int TaskFunctionPort = 8080;
    /// <summary>
    /// The task Services' port: the container's own. They are headless (the router connects to each replica's address
    /// itself), and a headless Service maps no port, so any other number would reach nothing.
    /// </summary>
    public const int TaskServicePort = TaskFunctionPort;

    /// <summary>The router's image (<c>infra/docker/router.Dockerfile</c>): the koalja tool, run as <c>koalja up --task-host remote</c>.</summary>
    public string RouterImage { get; init; } = "koalja/router:0.1.0";

    /// <summary>The task function's image (<c>infra/docker/task-runtime.Dockerfile</c>).</summary>
    public string TaskImage { get; init; } = "koalja/task-runtime:0.1.0";

    /// <summary>
    /// Use a task's <c>executor.image</c> as its task function's image (it must be built FROM the task-runtime image,
    /// so that it holds the Functions host and Koalja's app); otherwise every task runs in <see cref="TaskImage"/>, and
    /// the executor's image is only recorded (annotation <c>koalja.aljabr.io/executor-image</c>).
    /// </summary>
    public bool UseExecutorImages { get; init; }

    /// <summary><c>IfNotPresent</c>, or <c>Never</c> for images imported into the node (no registry).</summary>
    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    public IngressKind Ingress { get; init; } = IngressKind.HttpProxy;

    /// <summary><c>spec.ingressClassName</c> of a plain Ingress (null: the cluster's default class).</summary>
    public string? IngressClassName { get; init; }

    /// <summary>A task's most replicas when it does not say (order-sensitive tasks get one).</summary>
    public int DefaultMaxReplicas { get; init; } = 10;

    public int TargetSnapshotsPerReplica { get; init; } = 1;

    /// <summary>KEDA's cooldownPeriod: seconds without work before a task scales to zero.</summary>
    public int CooldownSeconds { get; init; } = 300;

    /// <summary>KEDA's pollingInterval; activation is pushed regardless (StreamIsActive).</summary>
    public int PollingIntervalSeconds { get; init; } = 30;

    /// <summary>The router's volume (its SQLite registry, keys and working files).</summary>
    public string RouterVolumeSize { get; init; } = "1Gi";

    /// <summary>Where values are stored; every pod of the pipeline gets the same settings.</summary>
    public StorageConfig Storage { get; init; } = StorageConfig.Local();

    /// <summary>A Secret whose key <c>url</c> is the registry's PostgreSQL URL (<c>KOALJA_REGISTRY</c>); null: SQLite on the router's volume.</summary>
    public string? RegistrySecret { get; init; }

    /// <summary>A command running longer is killed (the task function's <c>KOALJA_COMMAND_TIMEOUT</c>, seconds).</summary>
    public int CommandTimeoutSeconds { get; init; } = 600;

    /// <summary>What is wrong with these settings, each named.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (DefaultMaxReplicas < 1)
        {
            problems.Add($"the default most replicas must be at least 1; it is {DefaultMaxReplicas}");
        }

        if (TargetSnapshotsPerReplica < 1)
        {
            problems.Add($"the snapshots per replica must be at least 1; it is {TargetSnapshotsPerReplica}");
        }

        if (CooldownSeconds < 0 || PollingIntervalSeconds < 1)
        {
            problems.Add($"the cooldown must not be negative and the polling interval at least 1 s; they are {CooldownSeconds} s and {PollingIntervalSeconds} s");
        }

        if (ImagePullPolicy is not ("Always" or "IfNotPresent" or "Never"))
        {
            problems.Add($"the image pull policy is Always, IfNotPresent or Never; it is '{ImagePullPolicy}'");
        }

        return problems;
    }
}

public enum IngressKind
{
    /// <summary>A Contour <c>HTTPProxy</c>, as the original used (its IngressRoute's successor).</summary>
    HttpProxy,

    /// <summary>A <c>networking.k8s.io/v1</c> Ingress.</summary>
    Ingress,

    /// <summary>No ingress: the router's Service only.</summary>
    None,
}

/// <summary>The store's settings as environment variables of every pod (values, or references to a Secret's keys), and volumes when it is a shared directory.</summary>
public sealed record StorageConfig(string Type, IReadOnlyList<V1EnvVar> Environment, string? SharedVolumeClaim)
{
    public const string MountPath = "/var/lib/koalja/values";

    /// <summary>A directory every pod mounts: a ReadWriteMany claim (null: one per pipeline, made by the operator).</summary>
    public static StorageConfig Local(string? claim = null) =>
        new("local", [Env("STORAGETYPE", "local"), Env("KOALJA_LOCAL_PATH", MountPath)], claim ?? "");

    /// <summary>S3 (STORAGETYPE=s3), the bucket of ConfigMap <c>koalja-s3-storage-config</c>'s <c>default</c> entry, keys from its Secret.</summary>
    public static StorageConfig S3(string bucket, string? endpoint, string secretName, string? prefix = null)
    {
        var env = new List<V1EnvVar> { Env("STORAGETYPE", "s3"), Env("S3_BUCKET", bucket) };
        if (endpoint is not null)
        {
            env.Add(Env("S3_ENDPOINT", endpoint));
        }

        if (prefix is not null)
        {
            env.Add(Env("S3_PREFIX", prefix));
        }

        env.Add(FromSecret("S3_ACCESS_KEY", secretName, "access-key"));
        env.Add(FromSecret("S3_SECRET_KEY", secretName, "secret-key"));
        env.Add(Env("AWS_EC2_METADATA_DISABLED", "true")); // the keys are given: never ask a metadata endpoint
        return new StorageConfig("s3", env, null);
    }

    /// <summary>Azure Blob (STORAGETYPE=azure): a container, and the Secret's <c>connection-string</c>.</summary>
    public static StorageConfig Azure(string container, string secretName, string? prefix = null)
    {
        var env = new List<V1EnvVar> { Env("STORAGETYPE", "azure"), Env("AZURE_STORAGE_CONTAINER", container) };
        if (prefix is not null)
        {
            env.Add(Env("AZURE_STORAGE_PREFIX", prefix));
        }

        env.Add(FromSecret("AZURE_STORAGE_CONNECTION_STRING", secretName, "connection-string"));
        return new StorageConfig("azure", env, null);
    }

    internal static V1EnvVar Env(string name, string value) => new() { Name = name, Value = value };

    internal static V1EnvVar FromSecret(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };
}
