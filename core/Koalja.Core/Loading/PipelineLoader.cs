using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;
using Koalja.Core.Validation;

namespace Koalja.Core.Loading;

/// <summary>
/// Loads and validates the Pipeline documents of a YAML or JSON file. Other Kubernetes documents in the
/// file (ConfigMaps, Secrets, ...) are skipped with a note. Never throws for bad content.
/// </summary>
public static class PipelineLoader
{
    private static readonly string[] KoaljaKinds = [Pipeline.KindValue, "PipelineRevision"];

    /// <summary>Reads a pipeline file; each pipeline knows the file's folder (<see cref="Pipeline.SourceDirectory"/>).</summary>
    public static PipelineLoadResult LoadFile(string path)
    {
        var result = Load(SourceFileReader.ReadFile(path), path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return result with { Pipelines = result.Pipelines.Select(p => p with { Pipeline = p.Pipeline with { SourceDirectory = folder } }).ToList() };
    }

    public static PipelineLoadResult LoadText(string text, string file) => Load(SourceFileReader.ReadText(text, file), file);

    private static PipelineLoadResult Load(SourceReadResult source, string file)
    {
        var diagnostics = new List<Diagnostic>(source.Diagnostics);
        var pipelines = new List<LoadedPipeline>();
        foreach (var document in source.Documents)
        {
            LoadDocument(document.Root, document.Index, file, pipelines, diagnostics);
        }

        if (pipelines.Count == 0 && !diagnostics.Any(d => d.Severity == Severity.Error))
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.NoPipeline, Severity.Error,
                $"no Pipeline document in the file; expected apiVersion: {Pipeline.ApiVersionValue} and kind: {Pipeline.KindValue}",
                file, SourcePosition.Start, ""));
        }

        CheckDuplicateNames(pipelines, diagnostics);
        var ordered = diagnostics.OrderBy(d => d.Position.Line).ThenBy(d => d.Position.Column).ToList();
        return new PipelineLoadResult(file, pipelines, ordered);
    }

    private static void LoadDocument(SourceNode root, int index, string file, List<LoadedPipeline> pipelines, List<Diagnostic> diagnostics)
    {
        if (root is ScalarNode { IsNull: true })
        {
            return; // an empty document, e.g. a trailing '---'
        }

        if (root is not MappingNode mapping)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.DocumentNotMapping, Severity.Error,
                $"document {index + 1} is {root.Describe()}, not a Kubernetes object (a mapping with apiVersion and kind)", file, root.Position, ""));
            return;
        }

        var apiVersion = (mapping["apiVersion"] as ScalarNode)?.Value ?? "";
        var kind = (mapping["kind"] as ScalarNode)?.Value ?? "";
        var name = ((mapping["metadata"] as MappingNode)?["name"] as ScalarNode)?.Value;
        var group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";

        if (apiVersion.Length == 0 || kind.Length == 0)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.MissingApiVersionOrKind, Severity.Error,
                $"document {index + 1} has no {(apiVersion.Length == 0 ? "apiVersion" : "kind")}", file, mapping.Position, "",
                $"a pipeline starts with apiVersion: {Pipeline.ApiVersionValue} and kind: {Pipeline.KindValue}"));
        }
        else if (kind == "List" && mapping["items"] is SequenceNode items)
        {
            foreach (var item in items.Items)
            {
                LoadDocument(item, index, file, pipelines, diagnostics);
            }
        }
        else if (group == Pipeline.Group && kind == Pipeline.KindValue)
        {
            if (apiVersion != Pipeline.ApiVersionValue)
            {
                diagnostics.Add(At(DiagnosticCodes.UnsupportedApiVersion, $"unsupported apiVersion '{apiVersion}'", file, mapping, "apiVersion",
                    $"Koalja reads {Pipeline.ApiVersionValue}"));
                return;
            }

            pipelines.Add(BindAndValidate(mapping, index, file, diagnostics));
        }
        else if (group == Pipeline.Group && !KoaljaKinds.Contains(kind, StringComparer.Ordinal))
        {
            diagnostics.Add(At(DiagnosticCodes.UnknownKind, $"unknown kind '{kind}' in {Pipeline.Group}", file, mapping, "kind",
                Suggestions.DidYouMean(kind, KoaljaKinds) ?? $"a pipeline has kind: {Pipeline.KindValue}"));
        }
        else if (kind == Pipeline.KindValue && Suggestions.Closest(apiVersion, [Pipeline.ApiVersionValue]) is { } meant)
        {
            diagnostics.Add(At(DiagnosticCodes.UnsupportedApiVersion, $"unsupported apiVersion '{apiVersion}'", file, mapping, "apiVersion",
                $"did you mean '{meant}'?"));
        }
        else
        {
            var what = name is null ? $"{kind} document" : $"{kind} '{name}'";
            diagnostics.Add(new Diagnostic(DiagnosticCodes.OtherDocumentSkipped, Severity.Note,
                $"skipped {what} ({apiVersion}): not a Koalja pipeline", file, mapping.Position, ""));
        }
    }

    private static LoadedPipeline BindAndValidate(MappingNode mapping, int index, string file, List<Diagnostic> diagnostics)
    {
        var map = new SourceMap { DocumentStart = mapping.Position };
        var bag = new DiagnosticBag(file, map);
        var pipeline = PipelineBinder.Bind(mapping, bag);
        PipelineValidator.Validate(pipeline, bag);
        diagnostics.AddRange(bag.Items);
        return new LoadedPipeline(pipeline, file, index, map);
    }

    private static void CheckDuplicateNames(List<LoadedPipeline> pipelines, List<Diagnostic> diagnostics)
    {
        foreach (var group in pipelines.Where(p => p.Pipeline.Name.Length > 0).GroupBy(p => p.Pipeline.Name).Where(g => g.Count() > 1))
        {
            foreach (var duplicate in group.Skip(1))
            {
                diagnostics.Add(new Diagnostic(DiagnosticCodes.DuplicatePipelineName, Severity.Error,
                    $"Duplicate pipeline name '{group.Key}'", duplicate.File, duplicate.Map.Locate("metadata.name"), "metadata.name",
                    $"the first is document {group.First().DocumentIndex + 1} of this file"));
            }
        }
    }

    private static Diagnostic At(string code, string message, string file, MappingNode mapping, string key, string? hint) =>
        new(code, Severity.Error, message, file, mapping[key]?.Position ?? mapping.Position, key, hint);
}
