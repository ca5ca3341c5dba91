using Koalja.Core.Loading;

namespace Koalja.Cli.Commands;

/// <summary>The JSON shape of <c>koalja validate --format json</c>, one per file.</summary>
internal sealed record ValidationReport(string File, bool Ok, IReadOnlyList<string> Pipelines, IReadOnlyList<DiagnosticReport> Diagnostics)
{
    public static ValidationReport From(PipelineLoadResult result) => new(
        result.File,
        result.Succeeded,
        result.Pipelines.Select(p => p.Pipeline.Name).ToList(),
        result.Diagnostics.Select(d => new DiagnosticReport(
            d.Code, d.Severity.ToString().ToLowerInvariant(), d.Message, d.Position.Line, d.Position.Column, d.Path, d.Hint)).ToList());
}

internal sealed record DiagnosticReport(string Code, string Severity, string Message, int Line, int Column, string Path, string? Hint);
