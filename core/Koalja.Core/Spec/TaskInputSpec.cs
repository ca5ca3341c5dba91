using System.Text.Json.Serialization;

namespace Koalja.Core.Spec;

/// <summary>An input of a task and how many values of it one execution takes.</summary>
public sealed record TaskInputSpec
{
    /// <summary>Largest sequence length (and so buffer) an input may ask for.</summary>
    public const long SequenceLengthLimit = 1_000_000;

    public string Name { get; init; } = "";

    public string TypeRef { get; init; } = "";

    /// <summary>When set, both the minimum and the maximum sequence length.</summary>
    public long? RequiredSequenceLength { get; init; }

    public long? MinSequenceLength { get; init; }

    public long? MaxSequenceLength { get; init; }

    /// <summary>How many values leave the window after an execution (SlidingWindow only).</summary>
    public long? Slide { get; init; }

    /// <summary>Another input of the same task whose sequence this input's values join.</summary>
    public string? MergeInto { get; init; }

    /// <summary>Values needed before a snapshot is ready: <c>requiredSequenceLength</c>, else <c>minSequenceLength</c>, else 1.</summary>
    [JsonIgnore]
    public long MinLength => RequiredSequenceLength ?? MinSequenceLength ?? 1;

    /// <summary>Most values one snapshot takes (and the buffer size): <c>requiredSequenceLength</c>, else <c>maxSequenceLength</c>, else the minimum.</summary>
    [JsonIgnore]
    public long MaxLength => RequiredSequenceLength ?? MaxSequenceLength ?? MinLength;

    [JsonIgnore]
    public long SlideLength => Slide ?? 1;

    [JsonIgnore]
    public bool IsMerged => !string.IsNullOrEmpty(MergeInto);
}
