using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Validation;

/// <summary>
/// Checks a bound pipeline completely and reports every problem at once: the original Koalja rules
/// with their messages, and the checks the original left open (unique names, link ends, types).
/// </summary>
public static class PipelineValidator
{
    public static void Validate(Pipeline pipeline, DiagnosticBag bag)
    {
        CheckPipelineName(pipeline.Metadata.Name, bag);
        var spec = pipeline.Spec;

        var tasks = new TaskValidator(spec, bag);
        TaskValidator.ForEachUnique(bag, spec.Tasks, t => t.Name, "spec.tasks", DiagnosticCodes.DuplicateTaskName,
            name => $"Duplicate task name '{name}'", tasks.Validate);

        var links = new LinkValidator(spec, bag);
        TaskValidator.ForEachUnique(bag, spec.Links, l => l.Name, "spec.links", DiagnosticCodes.DuplicateLinkName,
            name => $"Duplicate link name '{name}'", links.Validate);
        links.CheckInputLinks("spec.tasks");

        TaskValidator.ForEachUnique(bag, spec.Types, t => t.Name, "spec.types", DiagnosticCodes.DuplicateTypeName,
            name => $"Duplicate type name '{name}'", (type, path) => ValidateType(type, path, bag));
    }

    private static void CheckPipelineName(string name, DiagnosticBag bag)
    {
        if (name.Length == 0)
        {
            bag.Error(DiagnosticCodes.InvalidPipelineName, "metadata.name", "Pipeline name expected", "set metadata.name, e.g. name: linecount");
        }
        else if (!NameRules.IsValidPipelineName(name))
        {
            var suggestion = NameRules.SuggestPipelineName(name);
            bag.Error(DiagnosticCodes.InvalidPipelineName, "metadata.name", $"Invalid pipeline name '{name}'",
                NameRules.PipelineNameRuleText + (suggestion.Length > 0 ? $"; e.g. '{suggestion}'" : ""));
        }
    }

    private static void ValidateType(TypeSpec type, string path, DiagnosticBag bag)
    {
        NameRules.Check(bag, SourceMap.Child(path, "name"), type.Name);
        var protocolPath = SourceMap.Child(path, "protocol");
        if (string.IsNullOrEmpty(type.Protocol))
        {
            bag.Error(DiagnosticCodes.ProtocolExpected, protocolPath, $"Protocol expected in type '{type.Name}'", $"the only protocol is {TypeSpec.ProtocolFile}");
        }
        else if (type.Protocol != TypeSpec.ProtocolFile)
        {
            bag.Error(DiagnosticCodes.InvalidProtocol, protocolPath, $"Invalid protocol '{type.Protocol}'", $"the only protocol is {TypeSpec.ProtocolFile}");
        }
    }
}
