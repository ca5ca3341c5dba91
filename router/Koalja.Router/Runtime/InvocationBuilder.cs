using Koalja.Core.Contract;
using Koalja.Core.Policies;
using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>
/// Describes a snapshot as the task function receives it (<see cref="TaskInvocation"/>, the data of an
/// <c>io.koalja.snapshot</c> event): each input's ordered values with their content address and origin.
/// </summary>
internal static class InvocationBuilder
{
    public static InvocationValue Describe(ValueRecord value) => new(value.Id, value.Sha256, value.Size, value.MediaType,
        new ValueOrigin(value.Task, value.Output, value.OutputIndex, value.CreatedAt, value.Revision, value.CodeVersion, value.SnapshotId));

    /// <summary>
    /// A snapshot made while routing: its values are taken from what the router holds for the task's inputs; only a value
    /// it does not hold (queued before a restart) is read, through <paramref name="reader"/>.
    /// </summary>
    public static TaskInvocation Build(PipelineRuntime runtime, string task, Snapshot snapshot, CurrentCode code, int attempt, Func<RegistryReader> reader)
    {
        var inHand = runtime.InHand.GetValueOrDefault(task);
        RegistryReader? opened = null;
        return Build(runtime, task, snapshot, code.Version, code.Dropped, attempt, v =>
            inHand is not null && inHand.TryGetValue((v.Input, v.ValueId), out var held) ? held : Read(opened ??= reader(), snapshot, v.ValueId));
    }

    /// <summary>A snapshot read back from the registry (at start, or for a replay).</summary>
    public static TaskInvocation Build(PipelineRuntime runtime, string task, Snapshot snapshot, string codeVersion, TaskCode? code, int attempt, RegistryReader reader) =>
        Build(runtime, task, snapshot, codeVersion, code, attempt, v => Read(reader, snapshot, v.ValueId));

    private static TaskInvocation Build(PipelineRuntime runtime, string task, Snapshot snapshot, string codeVersion, TaskCode? code, int attempt, Func<ArrivedValue, InvocationValue> value)
    {
        var inputs = new List<InvocationInput>(snapshot.Inputs.Count);
        foreach (var input in snapshot.Inputs)
        {
            var values = new InvocationValue[input.Values.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = value(input.Values[i]);
            }

            inputs.Add(new InvocationInput(input.Name, values));
        }

        return new TaskInvocation(runtime.Name, runtime.Spec, task, codeVersion, snapshot.Id, attempt, inputs, code) { Namespace = runtime.Namespace, Revision = runtime.Revision, PipelineDirectory = runtime.Pipeline.SourceDirectory };
    }

    private static InvocationValue Read(RegistryReader reader, Snapshot snapshot, string valueId) =>
        Describe(reader.Value(valueId) ?? throw new InvalidOperationException($"Value {valueId} of snapshot {snapshot.Id} is not in the registry."));
}
