using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>One step of a pipeline: inputs, outputs, and what runs (an executor or a built-in type).</summary>
public sealed record TaskSpec
{
    public string Name { get; init; } = "";

    /// <summary>Built-in task type (<c>FileDrop</c>, <c>FileSplit</c>, ...); empty when an executor runs.</summary>
    public string? Type { get; init; }

    public ExecutorSpec? Executor { get; init; }

    /// <summary>As written; empty means <see cref="Spec.SnapshotPolicy.AllNew"/>.</summary>
    public string? SnapshotPolicy { get; init; }

    /// <summary>As written; empty means Auto with inputs, Custom without.</summary>
    public string? LaunchPolicy { get; init; }

    /// <summary>
    /// The most replicas the task runs at once (pods in the cluster, worker slots in <c>koalja up</c>), 1 to
    /// <see cref="Scaling.ScalingDecision.MostReplicas"/>; null: the operator's default (locally <c>--slots</c>).
    /// An order-sensitive task runs on one whatever this says.
    /// </summary>
    public long? MaxReplicas { get; init; }

    public ServiceSpec? Service { get; init; }

    public IReadOnlyList<TaskInputSpec> Inputs { get; init; } = [];

    public IReadOnlyList<TaskOutputSpec> Outputs { get; init; } = [];

    /// <summary>
    /// Settings of a built-in task type (a Koalja addition, e.g. a CloudEventSink's <c>url</c> and <c>mode</c>);
    /// null when the file has none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Options { get; init; }

    /// <summary>An option's value, or null when it is not set.</summary>
    public string? Option(string name) => Options?.GetValueOrDefault(name);

    /// <summary>The policy in force. Only call on a validated pipeline.</summary>
    [JsonIgnore]
    public SnapshotPolicy EffectiveSnapshotPolicy =>
        SpecEnums.TryParseSnapshotPolicy(SnapshotPolicy, out var policy)
            ? policy
            : throw new InvalidOperationException($"Task '{Name}' has invalid snapshot policy '{SnapshotPolicy}'; validate the pipeline first.");

    /// <summary>The launch policy in force. Only call on a validated pipeline.</summary>
    [JsonIgnore]
    public LaunchPolicy EffectiveLaunchPolicy =>
        string.IsNullOrEmpty(LaunchPolicy) ? (Inputs.Count > 0 ? Spec.LaunchPolicy.Auto : Spec.LaunchPolicy.Custom)
        : SpecEnums.TryParseLaunchPolicy(LaunchPolicy, out var policy) ? policy
        : throw new InvalidOperationException($"Task '{Name}' has invalid launch policy '{LaunchPolicy}'; validate the pipeline first.");

    /// <summary>The inputs that form a snapshot: those without <c>mergeInto</c>.</summary>
    [JsonIgnore]
    public IEnumerable<TaskInputSpec> SnapshotInputs => Inputs.Where(i => string.IsNullOrEmpty(i.MergeInto));

    public TaskInputSpec? InputByName(string name) => Inputs.FirstOrDefault(i => i.Name == name);

    public TaskOutputSpec? OutputByName(string name) => Outputs.FirstOrDefault(o => o.Name == name);
}
