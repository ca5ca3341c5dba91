using System.Globalization;
using System.Text.Json;

namespace Koalja.Core.Events;

/// <summary>
/// Checks an event in the JSON event format (structured mode, or one element of a batch) before it is decoded:
/// an object whose members are attributes (strings, or for extensions also integers and booleans; <c>null</c>
/// means unset), plus at most one of <c>data</c> and <c>data_base64</c>, where non-JSON data must be a string.
/// </summary>
public static class CloudEventJson
{
    public const string Data = "data";
    public const string DataBase64 = "data_base64";

    /// <summary>Every violation of the event; empty when it can be decoded.</summary>
    public static List<CloudEventViolation> Validate(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return [new CloudEventViolation("(event)", $"An event in JSON is an object, not {Describe(element.ValueKind)}")];
        }

        var violations = new List<CloudEventViolation>();
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        JsonElement? data = null;
        JsonElement? base64 = null;
        foreach (var member in element.EnumerateObject())
        {
            if (member.Name == Data)
            {
                data = member.Value;
                continue;
            }

            if (member.Name == DataBase64)
            {
                base64 = member.Value;
                continue;
            }

            if (!seen.Add(member.Name))
            {
                violations.Add(new CloudEventViolation(member.Name, $"Attribute '{member.Name}' appears twice"));
                continue;
            }

            if (member.Value.ValueKind == JsonValueKind.Null)
            {
                continue; // null means unset
            }

            var defined = CloudEventAttributes.Defined.Contains(member.Name, StringComparer.Ordinal);
            switch (member.Value.ValueKind)
            {
                case JsonValueKind.String:
                    attributes[member.Name] = member.Value.GetString()!;
                    break;
                case JsonValueKind.True or JsonValueKind.False when !defined:
                    attributes[member.Name] = member.Value.ValueKind == JsonValueKind.True ? "true" : "false";
                    break;
                case JsonValueKind.Number when !defined && member.Value.TryGetInt32(out var integer):
                    attributes[member.Name] = integer.ToString(CultureInfo.InvariantCulture);
                    break;
                case JsonValueKind.Number when !defined:
                    violations.Add(new CloudEventViolation(member.Name, $"Attribute '{member.Name}' is a number but not an Integer (a whole number of 32 bits)"));
                    break;
                default:
                    violations.Add(new CloudEventViolation(member.Name, defined
                        ? $"Attribute '{member.Name}' must be a JSON string, not {Describe(member.Value.ValueKind)}"
                        : $"Attribute '{member.Name}' must be a string, an integer or a boolean, not {Describe(member.Value.ValueKind)}"));
                    break;
            }
        }

        violations.AddRange(CloudEventRules.Check(attributes).Where(v => !violations.Any(o => o.Attribute == v.Attribute)));
        violations.AddRange(CheckData(data, base64, attributes.GetValueOrDefault(CloudEventAttributes.DataContentType)));
        return violations;
    }

    /// <summary>Whether a media type declares JSON data (<c>*/json</c> or <c>*/*+json</c>); an absent one does.</summary>
    public static bool IsJson(string? mediaType)
    {
        if (string.IsNullOrEmpty(mediaType))
        {
            return true;
        }

        var type = mediaType.Split(';', 2)[0].Trim();
        return type.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<CloudEventViolation> CheckData(JsonElement? data, JsonElement? base64, string? contentType)
    {
        if (data is not null && base64 is not null)
        {
            yield return new CloudEventViolation(Data, "An event has 'data' or 'data_base64', not both");
            yield break;
        }

        if (base64 is { } encoded && encoded.ValueKind != JsonValueKind.Null && (encoded.ValueKind != JsonValueKind.String || !encoded.TryGetBytesFromBase64(out _)))
        {
            yield return new CloudEventViolation(DataBase64, "'data_base64' must be a base64 string (RFC 4648)");
        }

        if (data is { } value && !IsJson(contentType) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
        {
            yield return new CloudEventViolation(Data, $"With datacontenttype '{CloudEventRules.Printable(contentType!)}' (not JSON), 'data' must be a string, not {Describe(value.ValueKind)}");
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
