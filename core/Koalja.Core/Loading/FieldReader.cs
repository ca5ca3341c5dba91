using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Koalja.Core.Diagnostics;
using Koalja.Core.Source;

namespace Koalja.Core.Loading;

/// <summary>
/// Reads the fields of one mapping with type checks, records where each was written, and at the end
/// reports the fields nobody asked for as unknown, with a "did you mean" when one is close.
/// </summary>
internal sealed class FieldReader
{
    private readonly MappingNode _node;
    private readonly DiagnosticBag _bag;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public FieldReader(MappingNode node, string path, DiagnosticBag bag)
    {
        _node = node;
        Path = path;
        _bag = bag;
        bag.Map.Add(path, node.Position);
        foreach (var entry in node.Entries)
        {
            bag.Map.Add(SourceMap.Child(path, entry.Key.Value), entry.Value.Position);
        }
    }

    public string Path { get; }

    public string? String(string key)
    {
        var value = Take(key, out var path);
        switch (value)
        {
            case null:
                return null;
            case ScalarNode scalar:
                return scalar.Value;
            default:
                _bag.Broken(DiagnosticCodes.WrongNodeType, path, $"'{key}' must be a string, not {value.Describe()}");
                return null;
        }
    }

    public long? Integer(string key)
    {
        var value = Take(key, out var path);
        switch (value)
        {
            case null:
                return null;
            case ScalarNode { Kind: ScalarKind.Plain } scalar
                when long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number):
                return number;
            case ScalarNode { Kind: ScalarKind.Plain } scalar when scalar.Value.All(c => char.IsAsciiDigit(c) || c is '-' or '+'):
                _bag.Broken(DiagnosticCodes.NotAnInteger, path, $"'{key}' is too large: {scalar.Value}");
                return null;
            default:
                _bag.Broken(DiagnosticCodes.NotAnInteger, path, $"'{key}' must be an integer, not {value.Describe()}",
                    value is ScalarNode { Kind: ScalarKind.Quoted } q && long.TryParse(q.Value, out _) ? "remove the quotes" : null);
                return null;
        }
    }

    public IReadOnlyList<string> StringList(string key) =>
        List(key, (node, path) => node is ScalarNode s && !s.IsNull ? s.Value : BrokenItem<string>(path, node, "a string"));

    public IReadOnlyList<T> List<T>(string key, Func<SourceNode, string, T?> bindItem)
        where T : class
    {
        var value = Take(key, out var path);
        if (value is null)
        {
            return [];
        }

        if (value is not SequenceNode sequence)
        {
            _bag.Broken(DiagnosticCodes.WrongNodeType, path, $"'{key}' must be a list, not {value.Describe()}");
            return [];
        }

        var items = new List<T>(sequence.Items.Count);
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = SourceMap.Item(path, i);
            _bag.Map.Add(itemPath, sequence.Items[i].Position);
            if (bindItem(sequence.Items[i], itemPath) is { } item)
            {
                items.Add(item);
            }
        }

        return items;
    }

    /// <summary>A list of mappings, each bound by <paramref name="bind"/>.</summary>
    public IReadOnlyList<T> ObjectList<T>(string key, Func<FieldReader, T> bind)
        where T : class =>
        List(key, (node, path) => node is MappingNode mapping
            ? ReadObject(mapping, path, _bag, bind)
            : BrokenItem<T>(path, node, "a mapping"));

    public T? Object<T>(string key, Func<FieldReader, T> bind)
        where T : class
    {
        var value = Take(key, out var path);
        return value switch
        {
            null => null,
            MappingNode mapping => ReadObject(mapping, path, _bag, bind),
            _ => BrokenItem<T>(path, value, "a mapping"),
        };
    }

    public IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var value = Take(key, out var path);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value is null)
        {
            return result;
        }

        if (value is not MappingNode mapping)
        {
            _bag.Broken(DiagnosticCodes.WrongNodeType, path, $"'{key}' must be a mapping of strings, not {value.Describe()}");
            return result;
        }

        foreach (var entry in mapping.Entries)
        {
            var entryPath = SourceMap.Child(path, entry.Key.Value);
            _bag.Map.Add(entryPath, entry.Value.Position);
            if (entry.Value is ScalarNode scalar)
            {
                result[entry.Key.Value] = scalar.IsNull ? "" : scalar.Value;
            }
            else
            {
                _bag.Broken(DiagnosticCodes.WrongNodeType, entryPath, $"'{entry.Key.Value}' must be a string, not {entry.Value.Describe()}");
            }
        }

        return result;
    }

    /// <summary>A field Koalja does not interpret but keeps, as JSON.</summary>
    public JsonElement? Raw(string key)
    {
        var value = Take(key, out _);
        return value is null ? null : JsonSerializer.SerializeToElement(ToJson(value));
    }

    /// <summary>Fields that may appear and are deliberately ignored.</summary>
    public void Ignore(params string[] keys)
    {
        foreach (var key in keys)
        {
            _known.Add(key);
        }
    }

    /// <summary>Every field that was not read, as (name, value) — for open-ended objects.</summary>
    public IEnumerable<MappingEntry> Remaining() => _node.Entries.Where(e => !_known.Contains(e.Key.Value));

    /// <summary>Reports every field that was not read.</summary>
    public void Finish()
    {
        foreach (var entry in Remaining())
        {
            var key = entry.Key.Value;
            var hint = Suggestions.DidYouMean(key, _known);
            _bag.Broken(DiagnosticCodes.UnknownField, SourceMap.Child(Path, key), $"unknown field '{key}'",
                hint ?? $"known fields here: {string.Join(", ", _known.Order(StringComparer.Ordinal))}", entry.Key.Position);
        }
    }

    public static T ReadObject<T>(MappingNode node, string path, DiagnosticBag bag, Func<FieldReader, T> bind)
    {
        var reader = new FieldReader(node, path, bag);
        var result = bind(reader);
        reader.Finish();
        return result;
    }

    public static JsonNode? ToJson(SourceNode node) => node switch
    {
        MappingNode m => new JsonObject(m.Entries.Select(e => KeyValuePair.Create(e.Key.Value, ToJson(e.Value)))),
        SequenceNode s => new JsonArray(s.Items.Select(ToJson).ToArray()),
        ScalarNode { IsNull: true } => null,
        ScalarNode { Kind: ScalarKind.Plain } s when long.TryParse(s.Value, out var l) => JsonValue.Create(l),
        ScalarNode { Kind: ScalarKind.Plain } s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        ScalarNode { Kind: ScalarKind.Plain, Value: "true" } => JsonValue.Create(true),
        ScalarNode { Kind: ScalarKind.Plain, Value: "false" } => JsonValue.Create(false),
        ScalarNode s => JsonValue.Create(s.Value),
        _ => null,
    };

    private SourceNode? Take(string key, out string path)
    {
        _known.Add(key);
        path = SourceMap.Child(Path, key);
        var value = _node[key];
        return value is ScalarNode s && s.IsNull ? null : value;
    }

    private T? BrokenItem<T>(string path, SourceNode node, string expected)
        where T : class
    {
        _bag.Broken(DiagnosticCodes.WrongNodeType, path, $"expected {expected}, not {node.Describe()}");
        return null;
    }
}
