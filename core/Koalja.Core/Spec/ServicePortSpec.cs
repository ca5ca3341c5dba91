using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>A port of a task service; <c>localPort</c> is where the executor really listens, when it differs.</summary>
public sealed record ServicePortSpec
{
    public string Name { get; init; } = "";

    public long? Port { get; init; }

    public long? LocalPort { get; init; }

    [JsonIgnore]
    public bool NeedsProxy => LocalPort is > 0 && LocalPort != Port;
}
