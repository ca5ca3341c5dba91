using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>Joins an output of one task (<c>task/output</c>) to an input of another (<c>task/input</c>).</summary>
public sealed record LinkSpec
{
    public string Name { get; init; } = "";

    public string SourceRef { get; init; } = "";

    public string DestinationRef { get; init; } = "";

    /// <summary>The parsed source reference, or null when it is malformed.</summary>
    [JsonIgnore]
    public TaskRef? Source => TaskRef.TryParse(SourceRef, out var r) ? r : null;

    /// <summary>The parsed destination reference, or null when it is malformed.</summary>
    [JsonIgnore]
    public TaskRef? Destination => TaskRef.TryParse(DestinationRef, out var r) ? r : null;
}
