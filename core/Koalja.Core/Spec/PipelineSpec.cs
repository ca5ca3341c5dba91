namespace Koalja.Core.Spec;

/// <summary>Tasks joined by links, and the types of the values that flow along them.</summary>
public sealed record PipelineSpec
{
    public IReadOnlyList<TaskSpec> Tasks { get; init; } = [];

    public IReadOnlyList<LinkSpec> Links { get; init; } = [];

    public IReadOnlyList<TypeSpec> Types { get; init; } = [];

    public TaskSpec? TaskByName(string name) => Tasks.FirstOrDefault(t => t.Name == name);

    public TypeSpec? TypeByName(string name) => Types.FirstOrDefault(t => t.Name == name);
}
