namespace Koalja.Core.Policies;

/// <summary>The values one execution of a task runs on: an ordered sequence per snapshot input.</summary>
/// <param name="Id">Deterministic: a hash of the task, the code version and the ordered input value ids.</param>
/// <param name="Sequence">Order in which the task's snapshots became ready, starting at 0.</param>
public sealed record Snapshot(string Id, long Sequence, IReadOnlyList<SnapshotInput> Inputs)
{
    public SnapshotInput? this[string input] => Inputs.FirstOrDefault(i => i.Name == input);

    /// <summary>Every value of the snapshot, input by input.</summary>
    public IEnumerable<ArrivedValue> Values => Inputs.SelectMany(i => i.Values);
}

/// <summary>The sequence of values one snapshot input contributes (merged inputs' values included).</summary>
public sealed record SnapshotInput(string Name, IReadOnlyList<ArrivedValue> Values);
