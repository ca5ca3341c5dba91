using Koalja.Core.Diagnostics;
using Koalja.Core.Scaling;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Validation;

/// <summary>The rules for one task, its inputs, outputs, executor and service (the original's, plus the gaps).</summary>
internal sealed class TaskValidator(PipelineSpec spec, DiagnosticBag bag)
{
    /// <summary>Largest sequence length (and so buffer) an input may ask for.</summary>
    public const long MaxSequenceLengthLimit = TaskInputSpec.SequenceLengthLimit;

    private readonly string[] _typeNames = spec.Types.Select(t => t.Name).ToArray();

    public void Validate(TaskSpec task, string path)
    {
        NameRules.Check(bag, SourceMap.Child(path, "name"), task.Name);
        if (task.Executor is null && string.IsNullOrEmpty(task.Type))
        {
            bag.Error(DiagnosticCodes.ExecutorOrTypeExpected, path, $"Executor or Type expected in task '{task.Name}'",
                $"add an executor (image, command) or a built-in type ({string.Join(", ", BuiltInTaskTypes.All)})");
        }

        if (task.Inputs.Count == 0 && task.Outputs.Count == 0)
        {
            bag.Error(DiagnosticCodes.TaskWithoutInputsOrOutputs, path, $"Task '{task.Name}' must have at least 1 input or 1 output");
        }

        CheckType(task, path);
        var policyValid = CheckEnum(task.SnapshotPolicy, SpecEnums.SnapshotPolicies, SpecEnums.TryParseSnapshotPolicy(task.SnapshotPolicy, out var policy),
            DiagnosticCodes.InvalidSnapshotPolicy, SourceMap.Child(path, "snapshotPolicy"), "SnapshotPolicy");
        CheckEnum(task.LaunchPolicy, SpecEnums.LaunchPolicies, SpecEnums.TryParseLaunchPolicy(task.LaunchPolicy, out _),
            DiagnosticCodes.InvalidLaunchPolicy, SourceMap.Child(path, "launchPolicy"), "LaunchPolicy");

        CheckMaxReplicas(task, path);
        var inputValidator = new InputValidator(task, _typeNames, bag, policyValid ? policy : null);
        ForEachUnique(bag, task.Inputs, i => i.Name, SourceMap.Child(path, "inputs"), DiagnosticCodes.DuplicateInputName,
            name => $"Duplicate input name '{name}' in task '{task.Name}'", inputValidator.Validate);
        ForEachUnique(bag, task.Outputs, o => o.Name, SourceMap.Child(path, "outputs"), DiagnosticCodes.DuplicateOutputName,
            name => $"Duplicate output name '{name}' in task '{task.Name}'", (output, outputPath) => ValidateOutput(task, output, outputPath));

        if (task.Executor is { } executor && string.IsNullOrEmpty(executor.Image))
        {
            bag.Error(DiagnosticCodes.ExecutorWithoutImage, SourceMap.Child(path, "executor.image"), $"Executor of task '{task.Name}' must have an image",
                "locally the image is not used, but the cluster needs it to run the task; e.g. image: alpine:latest");
        }

        if (task.Service is { } service)
        {
            ValidateService(service, SourceMap.Child(path, "service"));
        }

        TaskOptionsValidator.Validate(task, path, bag);
        TemplateValidator.Validate(task, spec, path, bag);
    }

    private void CheckType(TaskSpec task, string path)
    {
        if (string.IsNullOrEmpty(task.Type) || BuiltInTaskTypes.All.Contains(task.Type, StringComparer.Ordinal))
        {
            return;
        }

        bag.Warning(DiagnosticCodes.UnknownTaskType, SourceMap.Child(path, "type"), $"Unknown task type '{task.Type}'",
            Suggestions.DidYouMean(task.Type, BuiltInTaskTypes.All)
            ?? $"built-in types are {string.Join(", ", BuiltInTaskTypes.All)}; other types need a TaskExecutor on the cluster");
    }

    private void CheckMaxReplicas(TaskSpec task, string path)
    {
        if (task.MaxReplicas is not { } max)
        {
            return;
        }

        var maxPath = SourceMap.Child(path, "maxReplicas");
        if (max is < 1 or > ScalingDecision.MostReplicas)
        {
            bag.Error(DiagnosticCodes.MaxReplicasOutOfRange, maxPath, $"MaxReplicas out of range: {max}",
                $"maxReplicas is 1 to {ScalingDecision.MostReplicas}: the most replicas of the task (pods in the cluster, worker slots in koalja up)");
        }
        else if (task.Inputs.Count == 0)
        {
            bag.Warning(DiagnosticCodes.MaxReplicasWithoutInputs, maxPath,
                $"Task '{task.Name}' has maxReplicas but no inputs; it runs no snapshots and has no replicas, so maxReplicas has no effect",
                "remove maxReplicas; only a task with inputs is scaled");
        }
    }

    private bool CheckEnum(string? value, IReadOnlyList<string> allowed, bool valid, string code, string path, string what)
    {
        if (!valid)
        {
            bag.Error(code, path, $"Invalid {what} '{value}'",
                Suggestions.DidYouMean(value!, allowed) ?? $"expected one of {string.Join(", ", allowed)}");
        }

        return valid;
    }

    private void ValidateOutput(TaskSpec task, TaskOutputSpec output, string path)
    {
        NameRules.Check(bag, SourceMap.Child(path, "name"), output.Name);
        CheckTypeRef(output.TypeRef, SourceMap.Child(path, "typeRef"), _typeNames, bag);
        if (CheckEnum(output.Ready, SpecEnums.OutputReadinesses, SpecEnums.TryParseOutputReadiness(output.Ready, out var ready),
            DiagnosticCodes.InvalidOutputReadiness, SourceMap.Child(path, "ready"), "OutputReadiness"))
        {
            CheckReadinessOfCommand(task, output, ready, SourceMap.Child(path, "ready"));
        }
    }

    /// <summary>
    /// <c>ready: Auto</c> means the task pushes values while it runs, as the built-in types do. A command
    /// cannot: its outputs are published when it exits 0, which is <c>ready: Succeeded</c>.
    /// </summary>
    private void CheckReadinessOfCommand(TaskSpec task, TaskOutputSpec output, OutputReadiness ready, string path)
    {
        if (ready == OutputReadiness.Auto && task.Executor is not null && !BuiltInTaskTypes.All.Contains(task.Type ?? "", StringComparer.Ordinal))
        {
            bag.Warning(DiagnosticCodes.AutoReadinessOnCommand, path,
                $"Output '{output.Name}' of task '{task.Name}' has ready: Auto, but a command's outputs are published when it exits 0, as ready: Succeeded; write ready: Succeeded, or leave ready out",
                $"ready: Auto is for built-in task types ({string.Join(", ", BuiltInTaskTypes.All)}), which push values while they run");
        }
    }

    private void ValidateService(ServiceSpec service, string path)
    {
        if (service.Ports.Count == 0)
        {
            bag.Error(DiagnosticCodes.ServiceWithoutPorts, SourceMap.Child(path, "ports"), "Expected at least 1 port");
        }

        ForEachUnique(bag, service.Ports, p => p.Name, SourceMap.Child(path, "ports"), DiagnosticCodes.DuplicatePortName,
            name => $"Duplicate port name '{name}'", (port, portPath) =>
            {
                NameRules.CheckPortName(bag, SourceMap.Child(portPath, "name"), port.Name);
                if (port.Port is not (>= 1 and <= 65535))
                {
                    bag.Error(DiagnosticCodes.PortOutOfRange, SourceMap.Child(portPath, "port"), $"Port out of range: {port.Port ?? 0}", "a port is 1 to 65535");
                }

                if (port.LocalPort is < 0 or > 65535)
                {
                    bag.Error(DiagnosticCodes.LocalPortOutOfRange, SourceMap.Child(portPath, "localPort"), $"LocalPort out of range: {port.LocalPort}",
                        "a local port is 1 to 65535, or 0 for the same as port");
                }
            });
    }

    /// <summary>Runs <paramref name="validate"/> on every item and reports later items whose name repeats an earlier one.</summary>
    internal static void ForEachUnique<T>(DiagnosticBag bag, IReadOnlyList<T> items, Func<T, string> nameOf, string listPath,
        string code, Func<string, string> message, Action<T, string> validate)
    {
        var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = SourceMap.Item(listPath, i);
            var name = nameOf(items[i]);
            if (name.Length > 0 && !firstIndex.TryAdd(name, i))
            {
                var first = SourceMap.Item(listPath, firstIndex[name]);
                bag.Error(code, SourceMap.Child(itemPath, "name"), message(name),
                    $"the first '{name}' is at line {bag.Map.Locate(first).Line}; names must be unique");
            }

            validate(items[i], itemPath);
        }
    }

    internal static void CheckTypeRef(string typeRef, string path, IReadOnlyList<string> typeNames, DiagnosticBag bag)
    {
        if (typeRef.Length == 0)
        {
            bag.Error(DiagnosticCodes.TypeRefExpected, path, "TypeRef expected",
                typeNames.Count > 0 ? $"types defined in spec.types: {string.Join(", ", typeNames)}" : "define the type in spec.types and name it here");
        }
        else if (!typeNames.Contains(typeRef, StringComparer.Ordinal))
        {
            bag.Error(DiagnosticCodes.TypeRefNotFound, path, $"TypeRef '{typeRef}' not found",
                Suggestions.DidYouMean(typeRef, typeNames) ?? $"add a type named '{typeRef}' to spec.types");
        }
    }
}
