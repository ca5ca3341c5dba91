namespace Koalja.Core.Spec;

/// <summary>When an output value is published.</summary>
public enum OutputReadiness
{
    /// <summary>The executor publishes values itself, as it makes them.</summary>
    Auto,

    /// <summary>The output file is published after the executor exits with code 0.</summary>
    Succeeded,
}
