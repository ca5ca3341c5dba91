using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Koalja.Operator.Tests.Fake;

/// <summary>JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over System.Text.Json nodes; inputs are never modified.</summary>
internal static class JsonPatching
{
    /// <summary>RFC 7386: objects merge recursively, null removes a member, anything else (lists too) replaces.</summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject members)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? t.DeepClone().AsObject() : [];
        foreach (var (name, value) in members)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = MergePatch(result[name], value);
            }
        }

        return result;
    }

    /// <summary>RFC 6902: add, remove, replace, move, copy, test; a failed operation answers 422 as kube-apiserver does.</summary>
    public static JsonNode? JsonPatch(JsonNode? document, JsonArray operations)
    {
        var root = document?.DeepClone();
        foreach (var node in operations)
        {
            if (node is not JsonObject op || Text(op["op"]) is not { } name || Text(op["path"]) is not { } path)
            {
                throw KubeStatus.BadRequest("json patch: every operation needs \"op\" and \"path\"");
            }

            switch (name)
            {
                case "add":
                    root = Add(root, path, Value(op, name));
                    break;
                case "remove":
                    root = Remove(root, path, out _);
                    break;
                case "replace":
                    root = Remove(root, path, out _);
                    root = Add(root, path, Value(op, name));
                    break;
                case "move":
                {
                    var from = Text(op["from"]) ?? throw KubeStatus.BadRequest("json patch: move needs \"from\"");
                    root = Remove(root, from, out var moved);
                    root = Add(root, path, moved);
                    break;
                }

                case "copy":
                {
                    var from = Text(op["from"]) ?? throw KubeStatus.BadRequest("json patch: copy needs \"from\"");
                    root = Add(root, path, Find(root, from)?.DeepClone());
                    break;
                }

                case "test":
                    if (!JsonNode.DeepEquals(Find(root, path), op["value"]))
                    {
                        throw KubeStatus.PatchFailed($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw KubeStatus.BadRequest($"json patch: unexpected operation \"{name}\"");
            }
        }

        return root;
    }

    private static JsonNode? Value(JsonObject op, string name) =>
        op.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw KubeStatus.BadRequest($"json patch: {name} operation does not have a value");

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static List<string> Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw KubeStatus.PatchFailed($"json patch: invalid path \"{pointer}\"");
        }

        return [.. pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Find(JsonNode? root, string pointer)
    {
        var node = root;
        foreach (var token in Tokens(pointer))
        {
            node = Child(node, token, pointer);
        }

        return node;
    }

    private static JsonNode? Child(JsonNode? node, string token, string pointer) => node switch
    {
        JsonObject o when o.TryGetPropertyValue(token, out var value) => value,
        JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
        _ => throw KubeStatus.PatchFailed($"doc is missing path: \"{pointer}\": missing value"),
    };

    private static (JsonNode? Parent, string Last) Parent(JsonNode? root, string pointer)
    {
        var tokens = Tokens(pointer);
        var node = root;
        foreach (var token in tokens[..^1])
        {
            node = Child(node, token, pointer);
        }

        return (node, tokens[^1]);
    }

    private static JsonNode? Add(JsonNode? root, string pointer, JsonNode? value)
    {
        if (pointer.Length == 0)
        {
            return value;
        }

        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw KubeStatus.PatchFailed($"doc is missing path: \"{pointer}\": missing value");
        }

        return root;
    }

    private static JsonNode? Remove(JsonNode? root, string pointer, out JsonNode? removed)
    {
        if (pointer.Length == 0)
        {
            removed = root;
            return null;
        }

        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var value):
                removed = value;
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw KubeStatus.PatchFailed($"doc is missing path: \"{pointer}\": missing value");
        }

        return root;
    }
}
