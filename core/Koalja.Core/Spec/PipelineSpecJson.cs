using System.Text.Json;
using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>
/// A pipeline spec as JSON in the model's own shape (camelCase fields, as the pipeline file names them): stored
/// as a pipeline's revision, hashed into code versions, and carried by <c>io.koalja.snapshot</c> events.
/// </summary>
public static partial class PipelineSpecJson
{
    public static string Serialize(PipelineSpec spec) => JsonSerializer.Serialize(spec, SpecContext.Default.PipelineSpec);

    public static string SerializeTask(TaskSpec task) => JsonSerializer.Serialize(task, SpecContext.Default.TaskSpec);

    public static JsonElement ToElement(PipelineSpec spec) => JsonSerializer.SerializeToElement(spec, SpecContext.Default.PipelineSpec);

    /// <exception cref="JsonException">The JSON is not a pipeline spec.</exception>
    public static PipelineSpec Deserialize(JsonElement element) =>
        element.Deserialize(SpecContext.Default.PipelineSpec) ?? throw new JsonException("A pipeline spec is an object, not null.");

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(PipelineSpec))]
    [JsonSerializable(typeof(TaskSpec))]
    private sealed partial class SpecContext : JsonSerializerContext;
}
