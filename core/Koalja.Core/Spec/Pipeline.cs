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

    /// <summary>
    /// The folder of the file the pipeline was read from (absolute), when it was read from a file; commands see it as
    /// <c>{{.pipeline.dir}}</c> and <c>KOALJA_PIPELINE_DIR</c>. Not part of the spec or its revision.
    /// </summary>
    [JsonIgnore]
    public string? SourceDirectory { get; init; }
}
