using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using System.Net.Http.Headers;

namespace Koalja.Core.Events;

/// <summary>The three HTTP content modes of CloudEvents.</summary>
public enum EventMode
{
    Binary,
    Structured,
    Batch,
}

/// <summary>One event of a request: decoded, or why it cannot be.</summary>
public sealed record IncomingEvent(int Index, CloudEvent? Event, IReadOnlyList<CloudEventViolation> Violations);

/// <summary>
/// The HTTP binding of CloudEvents 1.0 for requests (the SDK's ASP.NET Core package is not available): binary mode
/// (attributes in <c>ce-*</c> headers, percent-encoded, the body is the data), structured mode
/// (<c>application/cloudevents+json</c>) and batch mode (<c>application/cloudevents-batch+json</c>). Every event is
/// checked against the specification first, so a violation names its attribute; only then does the SDK decode it.
/// It reads headers and bodies, not a framework's request type, so every HTTP host (the router's ASP.NET Core
/// endpoints, the Functions app, <c>koalja listen</c>) binds events with it.
/// </summary>
public static class CloudEventBinding
{
    private static readonly JsonEventFormatter Formatter = new();
    private static readonly CloudEventAttribute[] Extensions = [ValueEvents.DataRef];

    /// <summary>The prefix of binary-mode attribute headers.</summary>
    public const string HeaderPrefix = "ce-";

    /// <summary>The content mode of a request with this <c>Content-Type</c>, or null when it is not a CloudEvent.</summary>
    /// <param name="hasSpecVersionHeader">Whether the request has a <c>ce-specversion</c> header.</param>
    public static EventMode? ModeOf(string? contentType, bool hasSpecVersionHeader)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType : null;
        return mediaType switch
        {
            _ when string.Equals(mediaType, CloudEventAttributes.BatchMediaType, StringComparison.OrdinalIgnoreCase) => EventMode.Batch,
            _ when string.Equals(mediaType, CloudEventAttributes.StructuredMediaType, StringComparison.OrdinalIgnoreCase) => EventMode.Structured,
            _ when hasSpecVersionHeader => EventMode.Binary,
            _ => null,
        };
    }

    /// <summary>A binary-mode event's attributes (its data is the request body, read by the caller).</summary>
    public static IncomingEvent ReadBinary(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> headers, string? contentType)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var violations = new List<CloudEventViolation>();
        foreach (var (header, values) in headers)
        {
            if (!header.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var name = header[HeaderPrefix.Length..].ToLowerInvariant(); // header names are case-insensitive
            if (values.Count != 1)
            {
                violations.Add(new CloudEventViolation(name, $"Attribute '{name}' is sent in {values.Count} '{header}' headers; send it once"));
                continue;
            }

            if (DecodeHeaderValue(values[0]) is { } decoded)
            {
                attributes[name] = decoded;
            }
            else
            {
                violations.Add(new CloudEventViolation(name, $"The '{header}' header is not valid percent-encoded UTF-8"));
            }
        }

        if (contentType is { Length: > 0 })
        {
            attributes[CloudEventAttributes.DataContentType] = contentType;
        }

        violations.AddRange(CloudEventRules.Check(attributes).Where(v => violations.All(o => o.Attribute != v.Attribute)));
        if (violations.Count > 0)
        {
            return new IncomingEvent(0, null, violations);
        }

        try
        {
            var evt = new CloudEvent(CloudEventsSpecVersion.V1_0, Extensions);
            foreach (var (name, value) in attributes.Where(a => a.Key != CloudEventAttributes.SpecVersion))
            {
                evt.SetAttributeFromString(name, value);
            }

            return new IncomingEvent(0, evt, []);
        }
        catch (ArgumentException e)
        {
            return new IncomingEvent(0, null, [new CloudEventViolation(e.ParamName ?? "(event)", e.Message)]);
        }
    }

    /// <summary>The events of a structured or batch request body (already read, within its limit).</summary>
    /// <returns>The events, or why the body as a whole cannot be read.</returns>
    public static (IReadOnlyList<IncomingEvent>? Events, CloudEventViolation? Problem) ReadJson(ReadOnlyMemory<byte> body, EventMode mode)
    {
        if (InvalidUtf8At(body.Span) is { } at)
        {
            // JsonDocument checks the UTF-8 of strings only when they are read, which would fail later as no violation
            return (null, new CloudEventViolation("(body)", $"The body of a {(mode == EventMode.Batch ? "batch" : "structured")}-mode request is not valid UTF-8 (at byte {at:N0}); JSON is UTF-8"));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            var kind = mode == EventMode.Batch ? "batch" : "structured";
            return (null, new CloudEventViolation("(body)", $"The body of a {kind}-mode request is not JSON: {e.Message}"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (mode == EventMode.Structured)
            {
                return ([Decode(0, root)], null);
            }

            if (root.ValueKind != JsonValueKind.Array)
            {
                return (null, new CloudEventViolation("(body)", $"A batch ({CloudEventAttributes.BatchMediaType}) is a JSON array of events"));
            }

            return (root.EnumerateArray().Select((element, i) => Decode(i, element)).ToList(), null);
        }
    }

    /// <summary>Where the first byte that is not well-formed UTF-8 is, or null when all of it is.</summary>
    private static long? InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return null;
    }

    /// <summary>The bytes of an event's inline data: JSON data as JSON text, a string as UTF-8, base64 data decoded; null when there is none.</summary>
    public static byte[]? InlineData(CloudEvent evt) => evt.Data switch
    {
        null => null,
        byte[] bytes => bytes,
        string text => Encoding.UTF8.GetBytes(text),
        JsonElement json => Encoding.UTF8.GetBytes(json.GetRawText()),
        var other => Encoding.UTF8.GetBytes(other.ToString() ?? ""),
    };

    private static IncomingEvent Decode(int index, JsonElement element)
    {
        try
        {
            var violations = CloudEventJson.Validate(element);
            return violations.Count > 0
                ? new IncomingEvent(index, null, violations)
                : new IncomingEvent(index, Formatter.ConvertFromJsonElement(element, Extensions), []);
        }
        catch (ArgumentException e)
        {
            return new IncomingEvent(index, null, [new CloudEventViolation(e.ParamName ?? "(event)", e.Message)]);
        }
        catch (InvalidOperationException e)
        {
            // a string JSON cannot turn into text, such as an escaped lone surrogate ("\ud800")
            return new IncomingEvent(index, null, [new CloudEventViolation("(event)", $"The event holds a string that is not valid text: {e.Message}")]);
        }
    }

    /// <summary>A header value: a double-quoted string unescaped (older senders), then one round of strict percent-decoding.</summary>
    public static string? DecodeHeaderValue(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            var unquoted = new StringBuilder();
            for (var i = 1; i < value.Length - 1; i++)
            {
                unquoted.Append(value[i] == '\\' && i + 1 < value.Length - 1 ? value[++i] : value[i]);
            }

            value = unquoted.ToString();
        }

        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '%')
            {
                if (value[i] > 0x7f)
                {
                    return null;
                }

                bytes.Add((byte)value[i]);
                continue;
            }

            if (i + 2 >= value.Length || !byte.TryParse(value.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
            {
                return null;
            }

            bytes.Add(b);
            i += 2;
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
