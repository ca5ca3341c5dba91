using Koalja.Core.Spec;

namespace Koalja.Router.Runtime;

/// <summary>The spec as JSON (stored as the pipeline's revision) and the hashes derived from it.</summary>
internal static class SpecJson
{
    public static string Serialize(PipelineSpec spec) => PipelineSpecJson.Serialize(spec);

    /// <summary>The revision: a hash of the spec.</summary>
    public static string Revision(PipelineSpec spec) => Ids.Hash("revision", Serialize(spec));

    /// <summary>A task's code version as written in the pipeline: a hash of the pipeline's name and the task spec (executor, type, options, inputs, outputs).</summary>
    public static string CodeVersion(string pipeline, TaskSpec task) => Ids.Hash("code", pipeline, PipelineSpecJson.SerializeTask(task));
}
