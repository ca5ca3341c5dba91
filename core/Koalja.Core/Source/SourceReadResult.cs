using Koalja.Core.Diagnostics;

namespace Koalja.Core.Source;

/// <summary>The documents read from one file, and what went wrong while reading it.</summary>
public sealed record SourceReadResult(IReadOnlyList<SourceDocument> Documents, IReadOnlyList<Diagnostic> Diagnostics)
{
    public static SourceReadResult Failed(Diagnostic diagnostic) => new([], [diagnostic]);
}
