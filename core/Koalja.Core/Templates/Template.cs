using System.Globalization;
using System.Text;
using Koalja.Core.Diagnostics;

namespace Koalja.Core.Templates;

/// <summary>
/// A parsed command or argument template. Data is plain: strings, numbers, booleans, and
/// <see cref="IReadOnlyDictionary{TKey,TValue}"/> / <see cref="IReadOnlyList{T}"/> of those.
/// A field that does not exist is an error that names the fields that do (never an empty string).
/// </summary>
public sealed class Template
{
    private readonly IReadOnlyList<TemplateNode> _nodes;

    private Template(string text, IReadOnlyList<TemplateNode> nodes)
    {
        Text = text;
        _nodes = nodes;
    }

    public string Text { get; }

    /// <exception cref="TemplateException">The text is not a valid template of the supported subset.</exception>
    public static Template Parse(string text) => new(text, TemplateParser.Parse(text));

    /// <summary>Renders with content printed as it is (see the overload for shell scripts).</summary>
    public string Render(object? data, Func<string, byte[]> readUri) => Render(data, readUri, null);

    /// <param name="readUri">Reads the content of a value URI, for <c>readURI</c> and <c>readURIAsText</c>.</param>
    /// <param name="bindContent">
    /// Where the text is a shell script: given content that <c>readURI</c> prints, what to print instead (a reference
    /// to an environment variable holding it), so that data never becomes shell code. Null prints the content.
    /// </param>
    /// <exception cref="TemplateException">A field is missing or a value has the wrong shape.</exception>
    public string Render(object? data, Func<string, byte[]> readUri, Func<string, string>? bindContent)
    {
        var output = new StringBuilder();
        Render(_nodes, data, data, readUri, bindContent, output);
        return output.ToString();
    }

    private static void Render(IReadOnlyList<TemplateNode> nodes, object? dot, object? root, Func<string, byte[]> readUri, Func<string, string>? bindContent, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case TextNode text:
                    output.Append(text.Text);
                    break;
                case PrintNode { Expression: CallExpr { Function: "readURI" or "readURIAsText" } } content when bindContent is not null:
                    output.Append(bindContent(Print(Evaluate(content.Expression, dot, root, readUri))));
                    break;
                case PrintNode print:
                    output.Append(Print(Evaluate(print.Expression, dot, root, readUri)));
                    break;
                case IfNode ifNode:
                    Render(IsTrue(Evaluate(ifNode.Condition, dot, root, readUri)) ? ifNode.Then : ifNode.Else, dot, root, readUri, bindContent, output);
                    break;
                case RangeNode range:
                    var items = Items(Evaluate(range.Over, dot, root, readUri), range.Over);
                    if (items.Count == 0)
                    {
                        Render(range.Else, dot, root, readUri, bindContent, output);
                    }

                    foreach (var item in items)
                    {
                        Render(range.Body, item, root, readUri, bindContent, output);
                    }

                    break;
            }
        }
    }

    private static object? Evaluate(Expr expression, object? dot, object? root, Func<string, byte[]> readUri) => expression switch
    {
        LiteralExpr literal => literal.Value,
        FieldExpr field => Fields(field.Base is null ? dot : Evaluate(field.Base, dot, root, readUri), field),
        CallExpr call => Call(call, call.Arguments.Select(a => Evaluate(a, dot, root, readUri)).ToArray(), readUri),
        _ => throw new TemplateException("unsupported expression", expression.Offset),
    };

    private static object? Fields(object? value, FieldExpr field)
    {
        var path = new StringBuilder(field.Base is null ? "" : "(...)");
        foreach (var name in field.Fields)
        {
            if (value is not IReadOnlyDictionary<string, object?> map)
            {
                throw new TemplateException($"{(path.Length == 0 ? "." : path.ToString())} is {Describe(value)}; it has no field '{name}'",
                    field.Offset, value is IReadOnlyList<object?> ? "it is a list: use {{range ...}} or (index ... 0)" : null);
            }

            if (!map.TryGetValue(name, out value))
            {
                throw new TemplateException($"{(path.Length == 0 ? "." : path.ToString())} has no field '{name}'", field.Offset,
                    Suggestions.DidYouMean(name, map.Keys) ?? (map.Count == 0 ? null : $"its fields: {string.Join(", ", map.Keys.Order(StringComparer.Ordinal))}"));
            }

            path.Append('.').Append(name);
        }

        return value;
    }

    private static object? Call(CallExpr call, object?[] args, Func<string, byte[]> readUri)
    {
        switch (call.Function)
        {
            case "index":
                if (args.Length < 2)
                {
                    throw new TemplateException("index needs a collection and at least one key", call.Offset);
                }

                var value = args[0];
                foreach (var key in args.Skip(1))
                {
                    value = (value, key) switch
                    {
                        (IReadOnlyDictionary<string, object?> map, string name) => map.TryGetValue(name, out var v) ? v
                            : throw new TemplateException($"index: no key '{name}'", call.Offset, Suggestions.DidYouMean(name, map.Keys)),
                        (IReadOnlyList<object?> list, long i) => i >= 0 && i < list.Count ? list[(int)i]
                            : throw new TemplateException($"index: {i} is out of range (the list has {list.Count})", call.Offset),
                        _ => throw new TemplateException($"index: cannot index {Describe(value)} with {Describe(key)}", call.Offset),
                    };
                }

                return value;
            case "readURI" or "readURIAsText":
                if (args is not [string uri])
                {
                    throw new TemplateException($"{call.Function} takes one URI string", call.Offset);
                }

                // Both give text here: a printed byte slice is never what a command line wants.
                return Encoding.UTF8.GetString(readUri(uri));
            case "len":
                return args is [var one] ? (long)Items(one, call).Count : throw new TemplateException("len takes one argument", call.Offset);
            default:
                throw new TemplateException($"unknown function '{call.Function}'", call.Offset);
        }
    }

    private static List<object?> Items(object? value, Expr at) => value switch
    {
        null => [],
        IReadOnlyList<object?> list => [.. list],
        IReadOnlyDictionary<string, object?> map => map.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value).ToList(),
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        _ => throw new TemplateException($"cannot range over {Describe(value)}", at.Offset),
    };

    private static bool IsTrue(object? value) => value switch
    {
        null => false,
        bool b => b,
        long n => n != 0,
        string s => s.Length > 0,
        IReadOnlyList<object?> list => list.Count > 0,
        IReadOnlyDictionary<string, object?> map => map.Count > 0,
        _ => true,
    };

    private static string Print(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        IReadOnlyList<object?> list => "[" + string.Join(" ", list.Select(Print)) + "]",
        IReadOnlyDictionary<string, object?> map => "map[" + string.Join(" ", map.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}:{Print(e.Value)}")) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Describe(object? value) => value switch
    {
        null => "empty",
        string => "a string",
        long => "a number",
        bool => "a boolean",
        IReadOnlyList<object?> => "a list",
        _ => "a value",
    };
}
