namespace Koalja.Core.Templates;

/// <summary>A template that cannot be parsed or rendered; <see cref="Offset"/> points into the template text.</summary>
public sealed class TemplateException(string message, int offset, string? hint = null) : Exception(message)
{
    public int Offset { get; } = offset;

    public string? Hint { get; } = hint;
}
