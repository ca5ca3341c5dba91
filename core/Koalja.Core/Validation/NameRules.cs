using System.Text.RegularExpressions;
using Koalja.Core.Diagnostics;

namespace Koalja.Core.Validation;

/// <summary>Names of tasks, inputs, outputs, links, types, pipelines and service ports.</summary>
public static partial class NameRules
{
    /// <summary>A Kubernetes label value's limit; names become label values (and DNS labels, env vars, file names, event sources).</summary>
    public const int MaxNameLength = 63;

    /// <summary>An IANA service name's limit, which Kubernetes puts on container and service port names.</summary>
    public const int MaxPortNameLength = 15;

    /// <summary>The name rule as a regular expression (also the Pipeline CRD's <c>pattern</c> for names).</summary>
    public const string NamePatternText = "^[a-zA-Z][a-zA-Z0-9_-]*$";

    public const string NameRuleText = "a name starts with a letter, followed by letters, digits, '_' or '-'";

    public const string PipelineNameRuleText =
        "a pipeline name is a DNS-1123 label: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";

    public const string PortNameRuleText =
        "a port name is an IANA service name (it names the Kubernetes container and service port): at most 15 lower-case letters, digits or '-', with at least one letter, not starting or ending with '-', and no '--'";

    /// <summary>How many characters of an overlong name a message shows.</summary>
    private const int ShownLength = 32;

    /// <summary>The original rule, anchored (the original's regex was not), and with '-' allowed as its examples use it.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    public static bool IsValidPipelineName(string name) => name.Length <= MaxNameLength && DnsLabelPattern().IsMatch(name);

    public static bool IsValidPortName(string name) => PortNameProblem(name) is null;

    /// <summary>
    /// Checks a name field with the original messages ("Name expected", "Invalid name '%s'"), and that it
    /// is at most <see cref="MaxNameLength"/> characters.
    /// </summary>
    public static void Check(DiagnosticBag bag, string path, string name)
    {
        if (name.Length == 0)
        {
            bag.Error(DiagnosticCodes.NameExpected, path, "Name expected");
            return;
        }

        if (!IsValidName(name))
        {
            bag.Error(DiagnosticCodes.InvalidName, path, $"Invalid name '{Shorten(name)}'", NameRuleText);
        }

        if (name.Length > MaxNameLength)
        {
            bag.Error(DiagnosticCodes.NameTooLong, path,
                $"Name '{Shorten(name)}' is {name.Length} characters; a name is at most {MaxNameLength} (it becomes a Kubernetes label value)",
                "shorten it; it also becomes part of DNS names, environment variables (KOALJA_INPUT_<NAME>), file names and CloudEvent sources");
        }
    }

    /// <summary>Checks a service port name: "Name expected" when empty, else the IANA service name rule.</summary>
    public static void CheckPortName(DiagnosticBag bag, string path, string name)
    {
        if (name.Length == 0)
        {
            bag.Error(DiagnosticCodes.NameExpected, path, "Name expected");
        }
        else if (PortNameProblem(name) is { } problem)
        {
            var suggestion = SuggestPortName(name);
            bag.Error(DiagnosticCodes.InvalidPortName, path, $"Invalid port name '{Shorten(name)}': {problem}",
                PortNameRuleText + (IsValidPortName(suggestion) ? $"; e.g. '{suggestion}'" : ""));
        }
    }

    /// <summary>A DNS-1123 label close to <paramref name="name"/>, to suggest.</summary>
    public static string SuggestPipelineName(string name)
    {
        var lowered = InvalidDnsCharacters().Replace(name.ToLowerInvariant(), "-").Trim('-');
        return lowered.Length > MaxNameLength ? lowered[..MaxNameLength].TrimEnd('-') : lowered;
    }

    /// <summary>The first way <paramref name="name"/> breaks the port name rule, or null when it keeps it.</summary>
    private static string? PortNameProblem(string name) => name switch
    {
        { Length: > MaxPortNameLength } => $"it is {name.Length} characters; a port name is at most {MaxPortNameLength}",
        _ when InvalidDnsCharacters().IsMatch(name) => "a port name has only lower-case letters, digits and '-'",
        _ when !name.Any(char.IsAsciiLetterLower) => "a port name has at least one letter",
        _ when name.StartsWith('-') || name.EndsWith('-') => "a port name does not start or end with '-'",
        _ when name.Contains("--", StringComparison.Ordinal) => "a port name does not contain '--'",
        _ => null,
    };

    private static string SuggestPortName(string name)
    {
        var lowered = Hyphens().Replace(InvalidDnsCharacters().Replace(name.ToLowerInvariant(), "-"), "-").Trim('-');
        return lowered.Length > MaxPortNameLength ? lowered[..MaxPortNameLength].TrimEnd('-') : lowered;
    }

    /// <summary>An overlong name cut short for a message (the position still points at all of it).</summary>
    private static string Shorten(string name) => name.Length > MaxNameLength ? name[..ShownLength] + "…" : name;

    [GeneratedRegex(NamePatternText)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabelPattern();

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex InvalidDnsCharacters();

    [GeneratedRegex("-{2,}")]
    private static partial Regex Hyphens();
}
