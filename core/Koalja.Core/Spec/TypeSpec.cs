namespace Koalja.Core.Spec;

/// <summary>A named type of value: how it travels (<c>protocol</c>) and what it holds (<c>format</c>, informational).</summary>
public sealed record TypeSpec
{
    public const string ProtocolFile = "File";

    public string Name { get; init; } = "";

    public string? Protocol { get; init; }

    public string? Format { get; init; }
}
