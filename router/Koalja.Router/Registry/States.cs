namespace Koalja.Router.Registry;

/// <summary>Where a snapshot is in its life (column <c>snapshots.status</c>).</summary>
public enum SnapshotStatus
{
    /// <summary>Made by its task's assembler and not finished: it runs (again at the next start if a crash interrupts it).</summary>
    Ready,

    Succeeded,

    /// <summary>Given up on after the last attempt; a dead letter says why.</summary>
    Dead,

    /// <summary>A replay of new code on an old snapshot's inputs, running.</summary>
    Replaying,

    /// <summary>A replay that succeeded; its outputs are shadow values until published.</summary>
    Shadow,

    /// <summary>A replay that failed.</summary>
    ShadowFailed,

    /// <summary>A dead letter the user gave up on (discarded): it is not listed or counted as a dead letter any more.</summary>
    Discarded,
}

/// <summary>How one execution attempt ended (column <c>executions.status</c>).</summary>
public enum ExecutionStatus
{
    Succeeded,
    Failed,
}

/// <summary>Where a value is in a link's queue toward one task input (column <c>link_entries.state</c>).</summary>
public enum LinkEntryState
{
    /// <summary>Waiting in the link: the input's buffer is full, or the value has not been taken into a snapshot yet.</summary>
    Queued,

    /// <summary>In the input's buffer, or in a snapshot that has not finished.</summary>
    Taken,

    /// <summary>Nothing holds it any more.</summary>
    Consumed,
}

/// <summary>The one place where the registry's state words are written and read.</summary>
public static class RegistryStates
{
    public static string Text(this SnapshotStatus status) => status switch
    {
        SnapshotStatus.Ready => "ready",
        SnapshotStatus.Succeeded => "succeeded",
        SnapshotStatus.Dead => "dead",
        SnapshotStatus.Replaying => "replaying",
        SnapshotStatus.Shadow => "shadow",
        SnapshotStatus.ShadowFailed => "shadow-failed",
        SnapshotStatus.Discarded => "discarded",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static string Text(this ExecutionStatus status) => status switch
    {
        ExecutionStatus.Succeeded => "succeeded",
        ExecutionStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static string Text(this LinkEntryState state) => state switch
    {
        LinkEntryState.Queued => "queued",
        LinkEntryState.Taken => "taken",
        LinkEntryState.Consumed => "consumed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <exception cref="FormatException">The registry holds a word this version does not know (written by a newer Koalja).</exception>
    public static SnapshotStatus ParseSnapshotStatus(string text) => text switch
    {
        "ready" => SnapshotStatus.Ready,
        "succeeded" => SnapshotStatus.Succeeded,
        "dead" => SnapshotStatus.Dead,
        "replaying" => SnapshotStatus.Replaying,
        "shadow" => SnapshotStatus.Shadow,
        "shadow-failed" => SnapshotStatus.ShadowFailed,
        "discarded" => SnapshotStatus.Discarded,
        _ => throw Unknown("snapshot status", text),
    };

    public static ExecutionStatus ParseExecutionStatus(string text) => text switch
    {
        "succeeded" => ExecutionStatus.Succeeded,
        "failed" => ExecutionStatus.Failed,
        _ => throw Unknown("execution status", text),
    };

    public static LinkEntryState ParseLinkEntryState(string text) => text switch
    {
        "queued" => LinkEntryState.Queued,
        "taken" => LinkEntryState.Taken,
        "consumed" => LinkEntryState.Consumed,
        _ => throw Unknown("link entry state", text),
    };

    private static FormatException Unknown(string what, string text) =>
        new($"The registry holds the {what} '{text}', which this version of Koalja does not know (was the registry written by a newer version?).");
}
