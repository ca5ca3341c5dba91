using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Koalja.Operator.Tests.Fake;

/// <summary>
/// A list or watch's <c>labelSelector</c> and <c>fieldSelector</c>: labels with <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>,
/// <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>; fields with <c>path=v</c>, <c>path==v</c>, <c>path!=v</c>
/// where the path is any dotted path into the object (<c>metadata.name</c>, <c>metadata.namespace</c>, <c>status.phase</c>).
/// </summary>
internal sealed partial class Selector
{
    private readonly List<Func<JsonObject, bool>> _terms;

    private Selector(List<Func<JsonObject, bool>> terms) => _terms = terms;

    public static Selector Everything { get; } = new([]);

    public bool Matches(JsonObject obj) => _terms.TrueForAll(t => t(obj));

    public Selector And(Selector other) => new([.. _terms, .. other._terms]);

    public static Selector Name(string name) => new([o => FieldValue(o, "metadata.name") == name]);

    public static Selector Parse(string? labelSelector, string? fieldSelector)
    {
        var terms = new List<Func<JsonObject, bool>>();
        foreach (var term in SplitTopLevel(labelSelector ?? ""))
        {
            terms.Add(ParseLabelTerm(term));
        }

        foreach (var raw in (fieldSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            terms.Add(ParseFieldTerm(raw));
        }

        return new Selector(terms);
    }

    private static Func<JsonObject, bool> ParseLabelTerm(string term)
    {
        var set = SetTerm().Match(term);
        if (set.Success)
        {
            var key = ValidKey(set.Groups["key"].Value, term);
            var values = set.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            return set.Groups["op"].Value == "in"
                ? o => Label(o, key) is { } v && values.Contains(v)
                : o => Label(o, key) is not { } v || !values.Contains(v);
        }

        if (term.StartsWith('!'))
        {
            var key = ValidKey(term[1..].Trim(), term);
            return o => Label(o, key) is null;
        }

        foreach (var op in LabelOperators)
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var key = ValidKey(term[..at].Trim(), term);
            var value = term[(at + op.Length)..].Trim();
            return op == "!=" ? o => Label(o, key) != value : o => Label(o, key) == value;
        }

        var exists = ValidKey(term, term);
        return o => Label(o, exists) is not null;
    }

    private static readonly string[] LabelOperators = ["!=", "==", "="];

    private static Func<JsonObject, bool> ParseFieldTerm(string term)
    {
        foreach (var op in LabelOperators)
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            var path = term[..at].Trim();
            var value = term[(at + op.Length)..].Trim();
            return op == "!=" ? o => FieldValue(o, path) != value : o => FieldValue(o, path) == value;
        }

        throw KubeStatus.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
    }

    private static string ValidKey(string key, string term) =>
        key.Length > 0 && LabelKey().IsMatch(key) ? key : throw KubeStatus.BadRequest($"unable to parse requirement: <nil>: Invalid value: \"{term}\": invalid label selector term");

    private static string? Label(JsonObject obj, string key) =>
        obj["metadata"]?["labels"] is JsonObject labels && labels[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A field as a field selector compares it: a string as is, other scalars as JSON, a missing one as "".</summary>
    internal static string FieldValue(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var next) ? next : null;
            if (node is null)
            {
                return "";
            }
        }

        return node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : node.ToJsonString();
    }

    /// <summary>Splits at commas outside parentheses (<c>a=b,c in (d,e)</c> is two terms).</summary>
    private static IEnumerable<string> SplitTopLevel(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= selector.Length; i++)
        {
            if (i == selector.Length || (selector[i] == ',' && depth == 0))
            {
                var term = selector[start..i].Trim();
                if (term.Length > 0)
                {
                    yield return term;
                }

                start = i + 1;
            }
            else if (selector[i] == '(')
            {
                depth++;
            }
            else if (selector[i] == ')')
            {
                depth--;
            }
        }
    }

    [GeneratedRegex(@"^(?<key>\S+)\s+(?<op>in|notin)\s*\((?<values>[^)]*)\)$")]
    private static partial Regex SetTerm();

    [GeneratedRegex(@"^([a-z0-9A-Z.\-]+/)?[a-z0-9A-Z]([a-z0-9A-Z._\-]*[a-z0-9A-Z])?$")]
    private static partial Regex LabelKey();
}
