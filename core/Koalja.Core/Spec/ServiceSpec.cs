namespace Koalja.Core.Spec;

/// <summary>Makes a task's executor a network service.</summary>
public sealed record ServiceSpec
{
    public IReadOnlyList<ServicePortSpec> Ports { get; init; } = [];
}
