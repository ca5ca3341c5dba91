using System.Text.RegularExpressions;
using Koalja.Core.Diagnostics;

namespace Koalja.Core.Validation;

/// <summary>Names of tasks, inputs, outputs, links, types and pipelines.</summary>
public static partial class NameRules
{
    public const string NameRuleText = "a name starts with a letter, followed by letters, digits, '_' or '-'";

    public const string PipelineNameRuleText =
        "a pipeline name is a DNS-1123 label: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";

    /// <summary>The original rule, anchored (the original's regex was not), and with '-' allowed as its examples use it.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    public static bool IsValidPipelineName(string name) => name.Length <= 63 && DnsLabelPattern().IsMatch(name);

    /// <summary>Checks a name field with the original messages: "Name expected", "Invalid name '%s'".</summary>
    public static void Check(DiagnosticBag bag, string path, string name)
    {
        if (name.Length == 0)
        {
            bag.Error(DiagnosticCodes.NameExpected, path, "Name expected");
        }
        else if (!IsValidName(name))
        {
            bag.Error(DiagnosticCodes.InvalidName, path, $"Invalid name '{name}'", NameRuleText);
        }
    }

    /// <summary>A DNS-1123 label close to <paramref name="name"/>, to suggest.</summary>
    public static string SuggestPipelineName(string name)
    {
        var lowered = InvalidDnsCharacters().Replace(name.ToLowerInvariant(), "-").Trim('-');
        return lowered.Length > 63 ? lowered[..63].TrimEnd('-') : lowered;
    }

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9_-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabelPattern();

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex InvalidDnsCharacters();
}
