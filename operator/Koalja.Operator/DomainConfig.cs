using YamlDotNet.RepresentationModel;

namespace Koalja.Operator;

/// <summary>
/// ConfigMap <c>koalja-domain-config</c>: each key a domain suffix, each value <c>selector: {label: value, ...}</c>
/// (or empty: the default). A pipeline's host is <c>&lt;pipeline&gt;.&lt;namespace&gt;.&lt;suffix&gt;</c> for the
/// most specific selector its labels match (most keys; ties to the alphabetically first suffix). The ConfigMap of the
/// pipeline's namespace is used if there is one, else the operator's.
/// </summary>
public sealed record DomainConfig(IReadOnlyList<DomainConfig.Entry> Entries)
{
    public const string ConfigMapName = "koalja-domain-config";

    /// <summary>When no ConfigMap exists: every pipeline under <c>example.com</c>, as the original did.</summary>
    public static DomainConfig Default { get; } = new([new Entry("example.com", new Dictionary<string, string>())]);

    public sealed record Entry(string Suffix, IReadOnlyDictionary<string, string> Selector);

    /// <summary>Reads a ConfigMap's data; every problem is named (a bad suffix, a value that is not a selector).</summary>
    /// <exception cref="FormatException">The data is not a domain configuration.</exception>
    public static DomainConfig Parse(IReadOnlyDictionary<string, string>? data, string source)
    {
        var problems = new List<string>();
        var entries = new List<Entry>();
        foreach (var (suffix, value) in (data ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!IsDomain(suffix))
            {
                problems.Add($"'{suffix}' is not a domain suffix (DNS labels of lower-case letters, digits and '-', joined by '.')");
                continue;
            }

            try
            {
                entries.Add(new Entry(suffix, Selector(value)));
            }
            catch (Exception e) when (e is FormatException or YamlDotNet.Core.YamlException)
            {
                problems.Add($"'{suffix}': {e.Message}");
            }
        }

        if (entries.Count == 0 && problems.Count == 0)
        {
            problems.Add("it has no domain suffix");
        }

        return problems.Count > 0
            ? throw new FormatException($"ConfigMap {source} is not a domain configuration: {string.Join("; ", problems)}")
            : new DomainConfig(entries);
    }

    /// <summary>The suffix for a pipeline with <paramref name="labels"/>, or null when no selector matches (and there is no default).</summary>
    public string? Lookup(IReadOnlyDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
        return Entries
            .Where(e => e.Selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value))
            .OrderByDescending(e => e.Selector.Count)
            .ThenBy(e => e.Suffix, StringComparer.Ordinal)
            .FirstOrDefault()?.Suffix;
    }

    /// <summary>
    /// The configuration that applies: the pipeline namespace's ConfigMap data if it has one, else the operator
    /// namespace's, else <see cref="Default"/>; with where it came from.
    /// </summary>
    public static (DomainConfig Config, string Source) Choose(IReadOnlyDictionary<string, string>? pipelineNamespace, string pipelineNamespaceName,
        IReadOnlyDictionary<string, string>? operatorNamespace, string operatorNamespaceName) =>
        pipelineNamespace is not null ? (Parse(pipelineNamespace, $"{pipelineNamespaceName}/{ConfigMapName}"), $"{pipelineNamespaceName}/{ConfigMapName}")
        : operatorNamespace is not null ? (Parse(operatorNamespace, $"{operatorNamespaceName}/{ConfigMapName}"), $"{operatorNamespaceName}/{ConfigMapName}")
        : (Default, "the default (no ConfigMap " + ConfigMapName + ")");

    private static Dictionary<string, string> Selector(string value)
    {
        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(value))
        {
            return selector;
        }

        var stream = new YamlStream();
        stream.Load(new StringReader(value));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return selector;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root || root.Children.Count != 1
            || root.Children.Single().Key is not YamlScalarNode { Value: "selector" })
        {
            throw new FormatException("the value must be empty (the default) or 'selector: {label: value, ...}'");
        }

        switch (root.Children.Single().Value)
        {
            case YamlScalarNode { Value: null or "" }:
                return selector;
            case YamlMappingNode labels:
                foreach (var (key, label) in labels.Children)
                {
                    if (key is not YamlScalarNode { Value: { Length: > 0 } name } || label is not YamlScalarNode { Value: { } text })
                    {
                        throw new FormatException("each selector entry must be 'label: value'");
                    }

                    selector[name] = text;
                }

                return selector;
            default:
                throw new FormatException("'selector' must be a map of label: value");
        }
    }

    private static bool IsDomain(string suffix) =>
        suffix.Length is > 0 and <= 253 && suffix.Split('.').All(KubeNames.IsDnsLabel);
}
