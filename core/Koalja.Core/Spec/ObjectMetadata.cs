namespace Koalja.Core.Spec;

/// <summary>The parts of Kubernetes object metadata that Koalja uses.</summary>
public sealed record ObjectMetadata
{
    public string Name { get; init; } = "";

    public string? Namespace { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}
