using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>A <c>koalja.aljabr.io/v1alpha1</c> <c>Pipeline</c> resource, as written in the original Koalja.</summary>
public sealed record Pipeline
{
    public const string Group = "koalja.aljabr.io";
    public const string Version = "v1alpha1";
    public const string ApiVersionValue = Group + "/" + Version;
    public const string KindValue = "Pipeline";

    public string ApiVersion { get; init; } = ApiVersionValue;

    public string Kind { get; init; } = KindValue;

    public ObjectMetadata Metadata { get; init; } = new();

    public PipelineSpec Spec { get; init; } = new();

    [JsonIgnore]
    public string Name => Metadata.Name;
}
