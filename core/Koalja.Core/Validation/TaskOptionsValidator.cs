using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Validation;

/// <summary>The <c>options</c> of a task: read by built-in task types (today CloudEventSink); anywhere else they are ignored, with a warning.</summary>
internal static class TaskOptionsValidator
{
    public static void Validate(TaskSpec task, string path, DiagnosticBag bag)
    {
        var optionsPath = SourceMap.Child(path, "options");
        if (task.Type != BuiltInTaskTypes.CloudEventSink)
        {
            foreach (var name in task.Options?.Keys ?? [])
            {
                bag.Warning(DiagnosticCodes.TaskOptionUnknown, SourceMap.Child(optionsPath, name), $"Option '{name}' of task '{task.Name}' is not used",
                    $"task options are read by {BuiltInTaskTypes.CloudEventSink} tasks; options of an output go under outputs[].options");
            }

            return;
        }

        if (task.Inputs.Count == 0)
        {
            bag.Error(DiagnosticCodes.SinkWithoutInputs, path, $"CloudEventSink task '{task.Name}' has no inputs",
                "a sink delivers the values that arrive on its inputs; add an input and link a task's output to it");
        }

        foreach (var name in task.Options?.Keys ?? [])
        {
            if (!CloudEventSinkOptions.Names.Contains(name, StringComparer.Ordinal))
            {
                bag.Warning(DiagnosticCodes.TaskOptionUnknown, SourceMap.Child(optionsPath, name), $"Unknown option '{name}' of CloudEventSink task '{task.Name}'",
                    Suggestions.DidYouMean(name, CloudEventSinkOptions.Names) ?? $"a CloudEventSink reads {string.Join(" and ", CloudEventSinkOptions.Names)}");
            }
        }

        foreach (var (option, missing, message, hint) in CloudEventSinkOptions.Problems(task))
        {
            bag.Error(missing ? DiagnosticCodes.TaskOptionMissing : DiagnosticCodes.TaskOptionInvalid,
                missing ? (task.Options is null ? path : optionsPath) : SourceMap.Child(optionsPath, option), message, hint);
        }
    }
}
