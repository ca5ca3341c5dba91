using Koalja.Core.Spec;

namespace Koalja.Core.Templates;

/// <summary>
/// The data a task's command and args are rendered with, as in the original Koalja:
/// <c>.inputs.X</c> (one file, or a list when the input's maximum is above 1), <c>.outputs.X</c>,
/// <c>.task</c> (the task spec with Go-style field names), <c>.tasks.T.service.name</c> and <c>.snapshot.id</c>; and Koalja's
/// own <c>.pipeline.dir</c>, the folder of the pipeline file, where it was run from one (<c>koalja up</c>).
/// </summary>
public static class TemplateData
{
    public static IReadOnlyDictionary<string, object?> Build(
        TaskSpec task,
        PipelineSpec pipeline,
        IReadOnlyDictionary<string, IReadOnlyList<TemplateFile>> inputs,
        IReadOnlyDictionary<string, TemplateFile> outputs,
        string snapshotId,
        Func<string, string> serviceHost,
        string? pipelineDirectory = null)
    {
        var inputData = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var input in task.SnapshotInputs)
        {
            if (!inputs.TryGetValue(input.Name, out var files) || files.Count == 0)
            {
                continue;
            }

            inputData[input.Name] = input.MaxLength > 1 ? files.Select(f => (object?)f.ToData()).ToList() : files[0].ToData();
        }

        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["inputs"] = inputData,
            ["outputs"] = outputs.ToDictionary(o => o.Key, o => (object?)o.Value.ToData(), StringComparer.Ordinal),
            ["task"] = TaskData(task),
            ["tasks"] = pipeline.Tasks.Where(t => t.Service is not null).DistinctBy(t => t.Name).ToDictionary(
                t => t.Name,
                t => (object?)new Dictionary<string, object?> { ["service"] = new Dictionary<string, object?> { ["name"] = serviceHost(t.Name) } },
                StringComparer.Ordinal),
            ["snapshot"] = new Dictionary<string, object?> { ["id"] = snapshotId },
            // no dir where the pipeline came from no file (a cluster): a template naming it fails there, saying the field is missing
            ["pipeline"] = pipelineDirectory is null
                ? new Dictionary<string, object?>(StringComparer.Ordinal)
                : new Dictionary<string, object?>(StringComparer.Ordinal) { ["dir"] = pipelineDirectory },
        };
    }

    /// <summary>Data shaped like a real execution's, for checking templates when the pipeline is loaded.</summary>
    public static IReadOnlyDictionary<string, object?> Sample(TaskSpec task, PipelineSpec pipeline) => Build(
        task,
        pipeline,
        task.SnapshotInputs.DistinctBy(i => i.Name).ToDictionary(
            i => i.Name,
            i => (IReadOnlyList<TemplateFile>)[new TemplateFile($"inputs/{i.Name}/0", "sample:", "sample", "", 0)],
            StringComparer.Ordinal),
        task.Outputs.DistinctBy(o => o.Name).ToDictionary(o => o.Name, o => new TemplateFile($"outputs/{o.Name}"), StringComparer.Ordinal),
        "sample",
        name => name,
        "/sample");

    private static Dictionary<string, object?> TaskData(TaskSpec task) => new(StringComparer.Ordinal)
    {
        ["Name"] = task.Name,
        ["Type"] = task.Type ?? "",
        ["SnapshotPolicy"] = task.SnapshotPolicy ?? "",
        ["LaunchPolicy"] = task.LaunchPolicy ?? "",
        ["Inputs"] = task.Inputs.Select(i => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Name"] = i.Name,
            ["TypeRef"] = i.TypeRef,
            ["MergeInto"] = i.MergeInto ?? "",
        }).ToList(),
        ["Outputs"] = task.Outputs.Select(o => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Name"] = o.Name,
            ["TypeRef"] = o.TypeRef,
            ["Ready"] = o.Ready ?? "",
            ["Options"] = o.Options.ToDictionary(e => e.Key, e => (object?)e.Value, StringComparer.Ordinal),
        }).ToList(),
    };
}
