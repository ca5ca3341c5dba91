using Koalja.Core.Spec;

namespace Koalja.Core.Policies;

/// <summary>
/// Rebuilds a task's <see cref="AssemblerState"/> from what a registry keeps anyway: the queue entries
/// still queued (arrived, and not yet reported in <see cref="AssemblyResult.Unqueued"/>) and the
/// unfinished snapshots. This works because each input's buffer is always the first <c>max</c> queued
/// values in arrival order (values enter the buffer first-in first-out, and leave it from the front,
/// or all at once), so the registry need not store the assembler's state separately.
/// </summary>
public static class AssemblerStateRows
{
    public static AssemblerState Rebuild(
        TaskSpec task,
        IEnumerable<ArrivedValue> queued,
        IEnumerable<PendingSnapshot> outstanding,
        long nextArrival,
        long nextSequence)
    {
        ArgumentNullException.ThrowIfNull(task);
        var streamOf = task.Inputs.ToDictionary(i => i.Name, i => i.IsMerged ? i.MergeInto! : i.Name, StringComparer.Ordinal);
        var byStream = queued.GroupBy(v => streamOf.TryGetValue(v.Input, out var s) ? s : v.Input).ToDictionary(g => g.Key, g => g.OrderBy(v => v.Arrival).ToList());
        var streams = task.SnapshotInputs.Select(input =>
        {
            var values = byStream.GetValueOrDefault(input.Name) ?? [];
            var max = (int)input.MaxLength;
            return new StreamState(input.Name, values.Take(max).ToArray(), values.Skip(max).ToArray());
        }).ToArray();
        return new AssemblerState(nextArrival, nextSequence, streams, outstanding.OrderBy(p => p.Snapshot.Sequence).ToArray());
    }
}
