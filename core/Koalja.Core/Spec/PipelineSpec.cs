namespace Koalja.Core.Spec;

/// <summary>Tasks joined by links, and the types of the values that flow along them.</summary>
public sealed record PipelineSpec
{
    public IReadOnlyList<TaskSpec> Tasks { get; init; } = [];

    public IReadOnlyList<LinkSpec> Links { get; init; } = [];

    public IReadOnlyList<TypeSpec> Types { get; init; } = [];

    public TaskSpec? TaskByName(string name) => Tasks.FirstOrDefault(t => t.Name == name);

    public LinkSpec? LinkByName(string name) => Links.FirstOrDefault(l => l.Name == name);

    public TypeSpec? TypeByName(string name) => Types.FirstOrDefault(t => t.Name == name);

    /// <summary>All links leaving an output (an output may feed several links).</summary>
    public IEnumerable<LinkSpec> LinksBySourceRef(TaskRef source) => Links.Where(l => l.Source == source);

    /// <summary>The link into an input (a valid pipeline has at most one).</summary>
    public LinkSpec? LinkByDestinationRef(TaskRef destination) => Links.FirstOrDefault(l => l.Destination == destination);
}
