namespace Koalja.Core.Policies;

/// <summary>Something that happened to a task's inputs or snapshots.</summary>
public abstract record AssemblerEvent;

/// <summary>A value arrived on <paramref name="Input"/> (a merged input's name is fine).</summary>
public sealed record ValueArrived(string Input, string ValueId) : AssemblerEvent;

/// <summary>The execution of a snapshot succeeded: its values may now be consumed.</summary>
public sealed record SnapshotSucceeded(string SnapshotId) : AssemblerEvent;

/// <summary>The execution failed and will be retried: its values stay reserved.</summary>
public sealed record SnapshotFailed(string SnapshotId) : AssemblerEvent;

/// <summary>The snapshot was given up on (dead-lettered): it is finished, and its values are consumed.</summary>
public sealed record SnapshotDeadLettered(string SnapshotId) : AssemblerEvent;
