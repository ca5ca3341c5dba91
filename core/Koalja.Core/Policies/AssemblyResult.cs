namespace Koalja.Core.Policies;

/// <summary>What one event produced: snapshots that became ready, and values that became consumed.</summary>
/// <param name="Ready">New snapshots, in sequence order, to execute.</param>
/// <param name="Consumed">Values no snapshot can use any more and no unfinished snapshot holds: acknowledge them on their links.</param>
public readonly record struct AssemblyResult(IReadOnlyList<Snapshot> Ready, IReadOnlyList<ArrivedValue> Consumed)
{
    public static readonly AssemblyResult Empty = new([], []);
}
