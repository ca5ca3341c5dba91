using System.Text.Json;
using System.Text.Json.Serialization;
using Koalja.Core.Spec;

namespace Koalja.Operator.Runtime;

/// <summary>The spec as JSON (stored as the pipeline's revision) and the hashes derived from it.</summary>
internal static partial class SpecJson
{
    public static string Serialize(PipelineSpec spec) => JsonSerializer.Serialize(spec, Context.Default.PipelineSpec);

    public static string SerializeTask(TaskSpec task) => JsonSerializer.Serialize(task, Context.Default.TaskSpec);

    /// <summary>The revision: a hash of the spec.</summary>
    public static string Revision(PipelineSpec spec) => Ids.Hash("revision", Serialize(spec));

    /// <summary>A task's code version as written in the pipeline: a hash of the pipeline's name and the task spec (executor, type, options, inputs, outputs).</summary>
    public static string CodeVersion(string pipeline, TaskSpec task) => Ids.Hash("code", pipeline, SerializeTask(task));

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonSerializable(typeof(PipelineSpec))]
    [JsonSerializable(typeof(TaskSpec))]
    private sealed partial class Context : JsonSerializerContext;
}
