using Koalja.Core.Source;

namespace Koalja.Core.Diagnostics;

/// <summary>
/// One finding about a pipeline file: where it is, what is wrong, and (when it helps) how to fix it.
/// </summary>
/// <param name="Code">Stable identifier, <c>KJ</c> plus four digits (see docs/diagnostics.md).</param>
/// <param name="Path">The offending field, e.g. <c>spec.tasks[1].inputs[0].typeRef</c>; empty for file-level problems.</param>
public sealed record Diagnostic(
    string Code,
    Severity Severity,
    string Message,
    string File,
    SourcePosition Position,
    string Path,
    string? Hint = null)
{
    /// <summary>The compiler-style line: <c>FILE:LINE:COL: error KJ0123: MESSAGE</c>.</summary>
    public string Format()
    {
        var where = Path.Length > 0 ? $" ({Path})" : "";
        var severity = Severity switch
        {
            Severity.Error => "error",
            Severity.Warning => "warning",
            _ => "note",
        };
        return $"{File}:{Position.Line}:{Position.Column}: {severity} {Code}: {Message}{where}";
    }

    public override string ToString() => Format();
}
