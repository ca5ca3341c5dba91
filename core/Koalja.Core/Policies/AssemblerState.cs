namespace Koalja.Core.Policies;

/// <summary>
/// Everything a task's snapshot assembler knows, as plain data: the registry persists it and
/// <see cref="SnapshotAssembler.FromState"/> reloads it exactly.
/// </summary>
/// <param name="NextArrival">Arrival number the next value gets.</param>
/// <param name="NextSequence">Sequence number the next snapshot gets.</param>
/// <param name="Streams">One per snapshot input, in the order of the task's inputs.</param>
/// <param name="Outstanding">Snapshots taken and not yet finished, in sequence order.</param>
public sealed record AssemblerState(
    long NextArrival,
    long NextSequence,
    IReadOnlyList<StreamState> Streams,
    IReadOnlyList<PendingSnapshot> Outstanding);

/// <summary>
/// The values of one snapshot input: <paramref name="Buffer"/> is the input's sequence (at most its
/// maximum length), <paramref name="Waiting"/> the values that arrived beyond it and wait in their link.
/// </summary>
public sealed record StreamState(string Input, IReadOnlyList<ArrivedValue> Buffer, IReadOnlyList<ArrivedValue> Waiting);

/// <summary>A snapshot that was handed out and has not finished; <paramref name="Failures"/> counts failed attempts.</summary>
public sealed record PendingSnapshot(Snapshot Snapshot, int Failures);
