namespace Koalja.Core.Spec;

/// <summary>How a task's input sequences advance between executions (docs/policies.md).</summary>
public enum SnapshotPolicy
{
    /// <summary>Each value is used by exactly one execution.</summary>
    AllNew,

    /// <summary>Overlapping windows: after an execution the first <c>slide</c> values leave.</summary>
    SlidingWindow,

    /// <summary>A new value replaces its input's old one and re-fires with the other inputs' latest values.</summary>
    SwapNew4Old,
}
