using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;
using Koalja.Core.Templates;

namespace Koalja.Core.Validation;

/// <summary>
/// Parses every executor command and argument template and renders it against data shaped like a real
/// execution's, so that a construct Koalja does not support, or a field that does not exist
/// (<c>.inputs.inputFle.path</c>), is an error when the pipeline is loaded rather than when it runs.
/// </summary>
internal static class TemplateValidator
{
    public static void Validate(TaskSpec task, PipelineSpec spec, string taskPath, DiagnosticBag bag)
    {
        if (task.Executor is not { } executor)
        {
            return;
        }

        var sample = TemplateData.Sample(task, spec);
        Check(executor.Command, SourceMap.Child(taskPath, "executor.command"), task, sample, bag);
        Check(executor.Args, SourceMap.Child(taskPath, "executor.args"), task, sample, bag);
    }

    private static void Check(IReadOnlyList<string> templates, string listPath, TaskSpec task, IReadOnlyDictionary<string, object?> sample, DiagnosticBag bag)
    {
        for (var i = 0; i < templates.Count; i++)
        {
            var path = SourceMap.Item(listPath, i);
            Template template;
            try
            {
                template = Template.Parse(templates[i]);
            }
            catch (TemplateException e)
            {
                bag.Error(DiagnosticCodes.TemplateSyntax, path, $"Template error at {Near(templates[i], e.Offset)}: {e.Message}", e.Hint);
                continue;
            }

            try
            {
                template.Render(sample, _ => []);
            }
            catch (TemplateException e)
            {
                bag.Error(DiagnosticCodes.TemplateReference, path, $"Template error at {Near(templates[i], e.Offset)}: {e.Message}", HintFor(e, task));
            }
        }
    }

    private static string? HintFor(TemplateException e, TaskSpec task)
    {
        foreach (var merged in task.Inputs.Where(i => i.IsMerged))
        {
            if (e.Message.Contains($"no field '{merged.Name}'", StringComparison.Ordinal))
            {
                return $"'{merged.Name}' is merged into '{merged.MergeInto}': its values arrive as .inputs.{merged.MergeInto}";
            }
        }

        foreach (var input in task.SnapshotInputs.Where(i => i.MaxLength == 1))
        {
            if (e.Message.Contains($"cannot range over", StringComparison.Ordinal) || e.Message.Contains("a string; it has no field", StringComparison.Ordinal))
            {
                return $"an input whose maximum sequence length is 1 is one value, not a list: use .inputs.{input.Name}.path without range";
            }
        }

        return e.Hint;
    }

    /// <summary>The action around <paramref name="offset"/>: <c>'{{.inputs.x.path}}'</c>.</summary>
    private static string Near(string text, int offset)
    {
        var start = text.LastIndexOf("{{", Math.Clamp(offset, 0, Math.Max(0, text.Length - 1)), StringComparison.Ordinal);
        start = start < 0 ? Math.Max(0, offset - 20) : start;
        var end = text.IndexOf("}}", Math.Max(start, offset), StringComparison.Ordinal);
        end = end < 0 ? Math.Min(text.Length, start + 40) : end + 2;
        return $"'{text[start..end]}'";
    }
}
