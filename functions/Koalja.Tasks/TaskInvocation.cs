using Koalja.Core.Spec;

namespace Koalja.Tasks;

/// <summary>
/// Everything one execution needs (the data of an <c>io.koalja.snapshot</c> event): the task, its
/// code version, and for each snapshot input the ordered values. Task runners are stateless.
/// <paramref name="Code"/> is the dropped code that replaces the task's executor, if any.
/// </summary>
public sealed record TaskInvocation(
    string Pipeline,
    PipelineSpec Spec,
    string Task,
    string CodeVersion,
    string SnapshotId,
    int Attempt,
    IReadOnlyList<InvocationInput> Inputs,
    TaskCode? Code = null)
{
    public TaskSpec TaskSpec => Spec.TaskByName(Task) ?? throw new InvalidOperationException($"Task '{Task}' is not in the pipeline.");
}

/// <summary>The ordered values of one snapshot input.</summary>
public sealed record InvocationInput(string Name, IReadOnlyList<InvocationValue> Values);

/// <summary>One input value: its id, content address, size and media type.</summary>
public sealed record InvocationValue(string ValueId, string Sha256, long Size, string MediaType);
