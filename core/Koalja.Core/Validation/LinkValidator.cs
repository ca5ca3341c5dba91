using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Validation;

/// <summary>The rules for links: well-formed references, existing ends, matching types, one link per input.</summary>
internal sealed class LinkValidator(PipelineSpec spec, DiagnosticBag bag)
{
    private readonly string[] _taskNames = spec.Tasks.Select(t => t.Name).ToArray();

    /// <summary>Inputs that a misspelt destinationRef most likely meant; they are not reported again as unlinked.</summary>
    private readonly HashSet<TaskRef> _likelyMeant = [];

    public void Validate(LinkSpec link, string path)
    {
        NameRules.Check(bag, SourceMap.Child(path, "name"), link.Name);
        var source = CheckRef(link.SourceRef, SourceMap.Child(path, "sourceRef"), DiagnosticCodes.SourceRefExpected, $"SourceRef expected in link '{link.Name}'");
        var destination = CheckRef(link.DestinationRef, SourceMap.Child(path, "destinationRef"), DiagnosticCodes.DestinationRefExpected, $"DestinationRef expected in link '{link.Name}'");
        var output = source is { } s ? FindOutput(s, SourceMap.Child(path, "sourceRef")) : null;
        var input = destination is { } d ? FindInput(d, SourceMap.Child(path, "destinationRef")) : null;
        if (destination is { } unresolved && input is null && Guess(unresolved) is { } guess)
        {
            _likelyMeant.Add(guess);
        }

        if (output is not null && input is not null && output.TypeRef != input.TypeRef
            && spec.TypeByName(output.TypeRef) is not null && spec.TypeByName(input.TypeRef) is not null)
        {
            bag.Error(DiagnosticCodes.LinkTypeMismatch, path,
                $"Link '{link.Name}' joins output '{source}' of type '{output.TypeRef}' to input '{destination}' of type '{input.TypeRef}'",
                "both ends of a link must have the same typeRef");
        }
    }

    /// <summary>Every input needs exactly one link, except an input that only receives merged values.</summary>
    public void CheckInputLinks(string tasksPath)
    {
        var incoming = spec.Links
            .Select(l => (Link: l, Destination: l.Destination))
            .Where(x => x.Destination is not null)
            .ToLookup(x => x.Destination!.Value, x => x.Link.Name);
        for (var t = 0; t < spec.Tasks.Count; t++)
        {
            var task = spec.Tasks[t];
            for (var i = 0; i < task.Inputs.Count; i++)
            {
                var input = task.Inputs[i];
                if (!NameRules.IsValidName(input.Name))
                {
                    continue;
                }

                var path = SourceMap.Item(SourceMap.Child(SourceMap.Item(tasksPath, t), "inputs"), i);
                var links = incoming[new TaskRef(task.Name, input.Name)].ToList();
                var fedByMerge = task.Inputs.Any(other => other.MergeInto == input.Name && other != input);
                if (links.Count == 0 && !(fedByMerge && !input.IsMerged) && !_likelyMeant.Contains(new TaskRef(task.Name, input.Name)))
                {
                    bag.Error(DiagnosticCodes.InputWithoutLink, path, $"Input '{input.Name}' of task '{task.Name}' has no incoming link",
                        $"add a link with destinationRef: {task.Name}/{input.Name}");
                }
                else if (links.Count > 1)
                {
                    bag.Error(DiagnosticCodes.InputWithSeveralLinks, path,
                        $"Input '{input.Name}' of task '{task.Name}' has {links.Count} incoming links ({string.Join(", ", links)})",
                        $"an input takes exactly one link; to combine streams give each link its own input with mergeInto: {input.Name}");
                }
            }
        }
    }

    private TaskRef? Guess(TaskRef reference)
    {
        var task = spec.TaskByName(reference.Task) ?? spec.TaskByName(Suggestions.Closest(reference.Task, _taskNames) ?? "");
        var input = task?.InputByName(reference.Name)?.Name ?? Suggestions.Closest(reference.Name, task?.Inputs.Select(i => i.Name) ?? []);
        return task is not null && input is not null ? new TaskRef(task.Name, input) : null;
    }

    private TaskRef? CheckRef(string text, string path, string emptyCode, string emptyMessage)
    {
        if (text.Length == 0)
        {
            bag.Error(emptyCode, path, emptyMessage, "write it as <task>/<input or output>");
            return null;
        }

        var parts = text.Split('/');
        if (parts.Length != 2)
        {
            bag.Error(DiagnosticCodes.MalformedRef, path, $"Expected '<name>/<i/o-name>', got '{text}'");
        }
        else if (parts[0].Length == 0)
        {
            bag.Error(DiagnosticCodes.RefTaskNameExpected, path, $"Name expected, got '{text}'", "the part before '/' names a task");
        }
        else if (parts[1].Length == 0)
        {
            bag.Error(DiagnosticCodes.RefIoNameExpected, path, $"Input/output name expected, got '{text}'", "the part after '/' names an input or output");
        }
        else
        {
            return new TaskRef(parts[0], parts[1]);
        }

        return null;
    }

    private TaskOutputSpec? FindOutput(TaskRef reference, string path)
    {
        var task = FindTask(reference, path);
        if (task is null || IsBroken(task, "outputs"))
        {
            return null;
        }

        var output = task.OutputByName(reference.Name);
        if (output is null)
        {
            bag.Error(DiagnosticCodes.LinkOutputNotFound, path, $"Task '{task.Name}' has no output '{reference.Name}'",
                task.InputByName(reference.Name) is not null
                    ? $"'{reference.Name}' is an input; a link goes from an output (sourceRef) to an input (destinationRef)"
                    : Suggestions.DidYouMean(reference.Name, task.Outputs.Select(o => o.Name)) ?? NamesOf("outputs", task.Outputs.Select(o => o.Name)));
        }

        return output;
    }

    private TaskInputSpec? FindInput(TaskRef reference, string path)
    {
        var task = FindTask(reference, path);
        if (task is null || IsBroken(task, "inputs"))
        {
            return null;
        }

        var input = task.InputByName(reference.Name);
        if (input is null)
        {
            bag.Error(DiagnosticCodes.LinkInputNotFound, path, $"Task '{task.Name}' has no input '{reference.Name}'",
                task.OutputByName(reference.Name) is not null
                    ? $"'{reference.Name}' is an output; a link goes from an output (sourceRef) to an input (destinationRef)"
                    : Suggestions.DidYouMean(reference.Name, task.Inputs.Select(i => i.Name)) ?? NamesOf("inputs", task.Inputs.Select(i => i.Name)));
        }

        return input;
    }

    private TaskSpec? FindTask(TaskRef reference, string path)
    {
        var task = spec.TaskByName(reference.Task);
        if (task is null)
        {
            bag.Error(DiagnosticCodes.LinkTaskNotFound, path, $"Task '{reference.Task}' not found",
                Suggestions.DidYouMean(reference.Task, _taskNames) ?? NamesOf("tasks", _taskNames));
        }

        return task;
    }

    /// <summary>A task whose inputs or outputs could not be read has already been reported; its links are not checked against them.</summary>
    private bool IsBroken(TaskSpec task, string list)
    {
        var index = spec.Tasks.ToList().IndexOf(task);
        return bag.IsBroken(SourceMap.Child(SourceMap.Item("spec.tasks", index), list));
    }

    private static string NamesOf(string what, IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? $"it has no {what}" : $"its {what}: {string.Join(", ", list)}";
    }
}
