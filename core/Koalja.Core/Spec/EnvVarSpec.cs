using System.Text.Json;

namespace Koalja.Core.Spec;

/// <summary>An environment variable of an executor: a literal value, or a Kubernetes <c>valueFrom</c> reference.</summary>
public sealed record EnvVarSpec
{
    public string Name { get; init; } = "";

    public string? Value { get; init; }

    public JsonElement? ValueFrom { get; init; }
}
