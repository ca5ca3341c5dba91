using System.Text.Json;

namespace Koalja.Core.Spec;

/// <summary>
/// The container that runs a task (a Kubernetes <c>core/v1 Container</c>). <c>command</c> and <c>args</c>
/// are templates. Container fields Koalja does not interpret are kept in <see cref="OtherFields"/>
/// so the cluster path can pass them on unchanged.
/// </summary>
public sealed record ExecutorSpec
{
    /// <summary>The container fields Koalja keeps for the cluster without interpreting them (in <see cref="OtherFields"/>).</summary>
    public static IReadOnlyList<string> PassThroughFields { get; } =
    [
        "ports", "envFrom", "resources", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
        "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
        "securityContext", "stdin", "stdinOnce", "tty", "resizePolicy", "restartPolicy",
    ];

    public string? Name { get; init; }

    public string? Image { get; init; }

    public IReadOnlyList<string> Command { get; init; } = [];

    public IReadOnlyList<string> Args { get; init; } = [];

    public string? WorkingDir { get; init; }

    public IReadOnlyList<EnvVarSpec> Env { get; init; } = [];

    public IReadOnlyDictionary<string, JsonElement> OtherFields { get; init; } = new Dictionary<string, JsonElement>();
}
