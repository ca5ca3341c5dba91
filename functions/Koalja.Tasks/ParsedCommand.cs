using Koalja.Core.Templates;

namespace Koalja.Tasks;

/// <summary>
/// An executor's command and args, parsed: the templates in order, up to the first that is not a valid template
/// (then <see cref="Error"/> says why), so rendering reports the same first error as parsing and rendering each in turn.
/// </summary>
internal sealed record ParsedCommand(IReadOnlyList<string> Texts, IReadOnlyList<Template> Templates, string? Error)
{
    public bool IsFor(IReadOnlyList<string> texts)
    {
        if (texts.Count != Texts.Count)
        {
            return false;
        }

        for (var i = 0; i < texts.Count; i++)
        {
            if (!string.Equals(texts[i], Texts[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
