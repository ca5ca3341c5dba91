namespace Koalja.Core.Spec;

/// <summary>How executions of a task are started.</summary>
public enum LaunchPolicy
{
    /// <summary>One execution per snapshot.</summary>
    Auto,

    /// <summary>The executor runs continuously and pulls snapshots itself.</summary>
    Custom,

    /// <summary>One execution per snapshot; a new snapshot cancels the running one.</summary>
    Restart,
}
