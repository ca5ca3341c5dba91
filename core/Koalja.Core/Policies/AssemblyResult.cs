namespace Koalja.Core.Policies;

/// <summary>What one event produced: snapshots that became ready, and values that became consumed.</summary>
/// <param name="Ready">New snapshots, in sequence order, to execute.</param>
/// <param name="Consumed">Values no snapshot can use any more and no unfinished snapshot holds: acknowledge them on their links.</param>
/// <param name="Unqueued">Values that left their input's queue (buffer or link) in this event: no later snapshot can contain them.
/// A registry that keeps queue entries marks them taken; see <see cref="AssemblerStateRows"/>.</param>
public readonly record struct AssemblyResult(IReadOnlyList<Snapshot> Ready, IReadOnlyList<ArrivedValue> Consumed, IReadOnlyList<ArrivedValue> Unqueued);
