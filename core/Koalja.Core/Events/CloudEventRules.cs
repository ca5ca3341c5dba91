using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Koalja.Core.Events;

/// <summary>
/// The rules of CloudEvents 1.0 for context attributes, on their canonical string form: names of lower-case
/// letters and digits, the four required attributes, <c>specversion</c> 1.0, and the types of the attributes the
/// specification defines (URI-reference, URI, RFC 2046 media type, RFC 3339 timestamp, non-empty strings).
/// </summary>
public static partial class CloudEventRules
{
    /// <summary>Longest attribute name accepted (the specification asks for at most 20; longer ones are legal).</summary>
    public const int MaxNameLength = 64;

    /// <summary>Longest attribute value accepted, in characters.</summary>
    public const int MaxValueLength = 4096;

    public static bool IsValidName(string name) => name.Length is > 0 and <= MaxNameLength && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));

    /// <summary>Why a name is not an attribute name, or null.</summary>
    public static string? CheckName(string name)
    {
        if (IsValidName(name))
        {
            return null;
        }

        if (name.Length == 0)
        {
            return "An attribute name is empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"Attribute name '{Printable(name)}' is longer than {MaxNameLength} characters";
        }

        var lower = name.ToLowerInvariant();
        return IsValidName(lower)
            ? $"Attribute name '{Printable(name)}' is not valid: CloudEvents attribute names are lower-case letters and digits (did you mean '{lower}'?)"
            : $"Attribute name '{Printable(name)}' is not valid: CloudEvents attribute names are lower-case letters (a-z) and digits (0-9) only";
    }

    /// <summary>Every violation in a set of attributes (name to canonical string value): names, required attributes, types.</summary>
    public static List<CloudEventViolation> Check(IReadOnlyDictionary<string, string> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        // Bad names first: an upper-case 'ID' is the cause, the missing 'id' its consequence.
        var violations = attributes.Keys.Where(name => CheckName(name) is not null).Select(name => new CloudEventViolation(Printable(name), CheckName(name)!)).ToList();
        foreach (var required in CloudEventAttributes.Required)
        {
            if (!attributes.ContainsKey(required))
            {
                violations.Add(new CloudEventViolation(required, $"The required attribute '{required}' is missing"));
            }
        }

        foreach (var (name, value) in attributes)
        {
            if (IsValidName(name) && CheckValue(name, value) is { } badValue)
            {
                violations.Add(new CloudEventViolation(name, badValue));
            }
        }

        return violations;
    }

    /// <summary>Why a value does not fit its attribute, or null.</summary>
    public static string? CheckValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxValueLength)
        {
            return $"Attribute '{name}' is longer than {MaxValueLength:N0} characters";
        }

        if (value.Any(c => c is <= '\u001f' or (>= '\u007f' and <= '\u009f')))
        {
            return $"Attribute '{name}' contains control characters, which CloudEvents strings may not";
        }

        return name switch
        {
            CloudEventAttributes.SpecVersion when value != CloudEventAttributes.Version10 =>
                $"Unsupported specversion '{Printable(value)}': Koalja reads CloudEvents {CloudEventAttributes.Version10}",
            CloudEventAttributes.Id or CloudEventAttributes.Type or CloudEventAttributes.Subject when value.Length == 0 => $"Attribute '{name}' must not be empty",
            CloudEventAttributes.Source or CloudEventAttributes.DataRef when !IsUriReference(value) => $"Attribute '{name}' must be a non-empty URI-reference, not '{Printable(value)}'",
            CloudEventAttributes.DataSchema when !Uri.TryCreate(value, UriKind.Absolute, out _) => $"Attribute 'dataschema' must be an absolute URI, not '{Printable(value)}'",
            CloudEventAttributes.DataContentType when !MediaTypeHeaderValue.TryParse(value, out var media) || !media.MediaType!.Contains('/', StringComparison.Ordinal) =>
                $"Attribute 'datacontenttype' must be a media type (RFC 2046) such as text/csv, not '{Printable(value)}'",
            CloudEventAttributes.Time when !TryParseTime(value, out _) => $"Attribute 'time' must be an RFC 3339 timestamp such as 2018-04-05T17:31:00Z, not '{Printable(value)}'",
            _ => null,
        };
    }

    /// <summary>An RFC 3339 timestamp (<c>2018-04-05T17:31:00Z</c>, with optional fraction and offset).</summary>
    public static bool TryParseTime(string value, out DateTimeOffset time)
    {
        time = default;
        var match = Rfc3339().Match(value);
        if (!match.Success)
        {
            return false;
        }

        // .NET parses at most 7 fraction digits; RFC 3339 allows any number.
        var text = match.Groups["fraction"].Length > 8 ? value.Remove(match.Groups["fraction"].Index + 8, match.Groups["fraction"].Length - 8) : value;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    private static bool IsUriReference(string value) => value.Length > 0 && !value.Any(char.IsWhiteSpace) && Uri.TryCreate(value, UriKind.RelativeOrAbsolute, out _);

    /// <summary>A value quoted in a message: at most 100 characters, control characters as '?'.</summary>
    internal static string Printable(string text) =>
        new(text.Take(100).Select(c => char.IsControl(c) ? '?' : c).Concat(text.Length > 100 ? "..." : "").ToArray());

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?<fraction>\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
