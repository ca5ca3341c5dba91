using Koalja.Core.Diagnostics;

namespace Koalja.Core.Loading;

/// <summary>What loading one file gave: its pipelines (valid or not) and every diagnostic, in file order.</summary>
public sealed record PipelineLoadResult(string File, IReadOnlyList<LoadedPipeline> Pipelines, IReadOnlyList<Diagnostic> Diagnostics)
{
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == Severity.Error);

    public bool Succeeded => !Errors.Any();
}
