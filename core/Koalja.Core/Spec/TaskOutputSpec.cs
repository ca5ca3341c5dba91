using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>An output of a task.</summary>
public sealed record TaskOutputSpec
{
    public string Name { get; init; } = "";

    public string TypeRef { get; init; } = "";

    /// <summary>As written; empty means <see cref="OutputReadiness.Succeeded"/>.</summary>
    public string? Ready { get; init; }

    /// <summary>Free-form settings for the executor or built-in task type.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>The readiness in force. Only call on a validated pipeline.</summary>
    [JsonIgnore]
    public OutputReadiness EffectiveReady =>
        SpecEnums.TryParseOutputReadiness(Ready, out var ready)
            ? ready
            : throw new InvalidOperationException($"Output '{Name}' has invalid readiness '{Ready}'; validate the pipeline first.");
}
