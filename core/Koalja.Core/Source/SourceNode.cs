namespace Koalja.Core.Source;

/// <summary>
/// A node of a parsed YAML or JSON document, with the position it came from.
/// YAML and JSON both load into this tree, so binding and error reporting are format-agnostic.
/// </summary>
public abstract class SourceNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>Number of nodes this node stands for once aliases are expanded (itself included).</summary>
    public abstract long ExpandedSize { get; }

    /// <summary>A short description of the node's kind for error messages ("a list", "a string", ...).</summary>
    public abstract string Describe();

    /// <summary>Adds sizes without overflowing: an alias bomb saturates instead of wrapping around.</summary>
    protected static long SaturatingSum(long start, IEnumerable<long> sizes)
    {
        var total = start;
        foreach (var size in sizes)
        {
            total = size > long.MaxValue - total ? long.MaxValue : total + size;
        }

        return total;
    }
}

public sealed class MappingNode(SourcePosition position, IReadOnlyList<MappingEntry> entries) : SourceNode(position)
{
    public IReadOnlyList<MappingEntry> Entries { get; } = entries;

    public override long ExpandedSize { get; } = SaturatingSum(1, entries.Select(e => e.Value.ExpandedSize));

    public SourceNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key)?.Value;

    public override string Describe() => "a mapping";
}

public sealed record MappingEntry(ScalarNode Key, SourceNode Value);

public sealed class SequenceNode(SourcePosition position, IReadOnlyList<SourceNode> items) : SourceNode(position)
{
    public IReadOnlyList<SourceNode> Items { get; } = items;

    public override long ExpandedSize { get; } = SaturatingSum(1, items.Select(i => i.ExpandedSize));

    public override string Describe() => "a list";
}

/// <summary>How a scalar was written: quoted scalars are always strings.</summary>
public enum ScalarKind
{
    /// <summary>Unquoted YAML, or a JSON number, boolean or null.</summary>
    Plain,

    /// <summary>Quoted or block YAML scalar, or a JSON string.</summary>
    Quoted,
}

public sealed class ScalarNode(SourcePosition position, string value, ScalarKind kind) : SourceNode(position)
{
    public string Value { get; } = value;

    public ScalarKind Kind { get; } = kind;

    public bool IsNull => Kind == ScalarKind.Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override long ExpandedSize => 1;

    public override string Describe() => IsNull ? "null"
        : Kind == ScalarKind.Quoted ? $"the string '{Value}'"
        : long.TryParse(Value, out _) ? $"the number {Value}"
        : Value is "true" or "false" ? $"the boolean {Value}"
        : $"the string '{Value}'";
}
