using System.Collections.Concurrent;
using Koalja.Core.Templates;

namespace Koalja.Tasks;

/// <summary>
/// The parsed command and args of executors, once per code version: a code version identifies its executor (the
/// spec's, or dropped code's), so every execution of a version renders the templates parsed for its first one.
/// Several worker slots ask at once; a version is parsed once however many ask together. Bounded: past
/// <c>capacity</c> versions it starts again empty, so a long-lived task host does not grow without end.
/// </summary>
internal sealed class CommandTemplates(int capacity = CommandTemplates.DefaultCapacity)
{
    public const int DefaultCapacity = 256;

    private readonly ConcurrentDictionary<string, ParsedCommand> _parsed = new(StringComparer.Ordinal);
    private readonly Lock _parsing = new();
    private long _parses;

    /// <summary>How often an executor's templates were parsed (for tests).</summary>
    internal long Parses => Interlocked.Read(ref _parses);

    /// <summary>How many code versions are held.</summary>
    internal int Count => _parsed.Count;

    /// <summary>
    /// The templates of <paramref name="texts"/> (an executor's command and args) for <paramref name="codeVersion"/>.
    /// The texts are compared with those parsed before, so a caller that reuses a version id for another command still
    /// runs its own command.
    /// </summary>
    public ParsedCommand For(string codeVersion, IReadOnlyList<string> texts)
    {
        if (_parsed.TryGetValue(codeVersion, out var held) && held.IsFor(texts))
        {
            return held;
        }

        // A miss happens once per version: parsing under the lock makes callers that miss together share one parse.
        lock (_parsing)
        {
            if (_parsed.TryGetValue(codeVersion, out held) && held.IsFor(texts))
            {
                return held;
            }

            if (held is null && _parsed.Count >= capacity)
            {
                _parsed.Clear();
            }

            var parsed = Parse(texts);
            _parsed[codeVersion] = parsed;
            return parsed;
        }
    }

    private ParsedCommand Parse(IReadOnlyList<string> texts)
    {
        Interlocked.Increment(ref _parses);
        var templates = new List<Template>(texts.Count);
        foreach (var text in texts)
        {
            try
            {
                templates.Add(Template.Parse(text));
            }
            catch (TemplateException e)
            {
                return new ParsedCommand([.. texts], templates, e.Message);
            }
        }

        return new ParsedCommand([.. texts], templates, null);
    }
}
