namespace Koalja.Operator.Controller;

/// <summary>How the operator runs: where it lives, what it watches, the settings of the objects it makes.</summary>
public sealed record OperatorOptions
{
    /// <summary>The operator's own namespace: its Lease, and the cluster-wide ConfigMaps (domain, storage, services) when a pipeline's namespace has none.</summary>
    public string Namespace { get; init; } = "koalja-system";

    /// <summary>Only this namespace's pipelines (null: every namespace).</summary>
    public string? WatchNamespace { get; init; }

    /// <summary>The images, ingress kind, limits and defaults of what is built.</summary>
    public OperatorSettings Settings { get; init; } = new();

    /// <summary><c>STORAGETYPE</c>: local (a shared volume), s3 or azure (their ConfigMap and Secret).</summary>
    public string? StorageType { get; init; }

    /// <summary>Every pipeline is reconciled again this often even without a change (objects edited or deleted by hand come back).</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Pipelines reconciled at once (one key is never reconciled twice at the same time).</summary>
    public int Workers { get; init; } = 4;

    /// <summary>The Lease that elects the one active operator.</summary>
    public string LeaseName { get; init; } = "koalja-operator";

    /// <summary>This operator's name in the Lease (the pod's name).</summary>
    public string Identity { get; init; } = Environment.MachineName;

    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait before a failed reconcile is retried (the back-off doubles from 0.5 s up to this).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(2);
}
