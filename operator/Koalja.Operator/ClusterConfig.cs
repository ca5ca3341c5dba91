using YamlDotNet.RepresentationModel;

namespace Koalja.Operator;

/// <summary>
/// The cluster's configuration a pipeline's objects depend on, as the original read it from ConfigMaps in the
/// pipeline's namespace, else in the operator's: the store (<c>STORAGETYPE</c> with <c>koalja-s3-storage-config</c>
/// or <c>koalja-azure-storage-config</c>, each entry naming a Secret) and the registry
/// (<c>koalja-services-config</c>). Parsing is pure; every problem is named, with the ConfigMap it is in.
/// </summary>
public static class ClusterConfig
{
    public const string ServicesConfigMap = "koalja-services-config";
    public const string S3StorageConfigMap = "koalja-s3-storage-config";
    public const string AzureStorageConfigMap = "koalja-azure-storage-config";

    /// <summary>The registry implementations a router can use, as <c>annotated-value-registry-name</c> names them.</summary>
    public static readonly IReadOnlyList<string> Registries = ["sqlite", "postgres"];

    /// <summary>
    /// The store from <c>STORAGETYPE</c> (<c>local</c>, <c>s3</c> or <c>azure</c>; empty: local) and, for s3 and azure, the
    /// <c>default</c> entry of the storage ConfigMap's data: S3 <c>{name, endpoint, secure?, secretName}</c> (the
    /// original's shape; an endpoint without a scheme gets https when <c>secure</c>, else http), Azure
    /// <c>{container, secretName}</c>. Throws <see cref="FormatException"/> naming what is wrong.
    /// </summary>
    public static StorageConfig Storage(string? storageType, IReadOnlyDictionary<string, string>? data, string source)
    {
        switch ((storageType ?? "").Trim().ToLowerInvariant())
        {
            case "" or "local":
                return StorageConfig.Local();
            case "s3":
            {
                var entry = DefaultEntry(data, source, S3StorageConfigMap);
                var bucket = Required(entry, "name", source);
                var secret = Required(entry, "secretName", source);
                var endpoint = entry.GetValueOrDefault("endpoint");
                bool? secure = null;
                if (entry.TryGetValue("secure", out var secureText))
                {
                    secure = bool.TryParse(secureText, out var b) ? b
                        : throw new FormatException($"{source}: 'secure' of the default entry is true or false, not '{secureText}'");
                }
                if (!string.IsNullOrEmpty(endpoint) && !endpoint.Contains("://", StringComparison.Ordinal))
                {
                    endpoint = (secure == true ? "https://" : "http://") + endpoint;
                }

                if (!string.IsNullOrEmpty(endpoint) && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
                {
                    throw new FormatException($"{source}: the endpoint '{endpoint}' of the default entry is not a URL");
                }

                return StorageConfig.S3(bucket, string.IsNullOrEmpty(endpoint) ? null : endpoint, secret);
            }

            case "azure":
            {
                var entry = DefaultEntry(data, source, AzureStorageConfigMap);
                return StorageConfig.Azure(Required(entry, "container", source), Required(entry, "secretName", source));
            }

            default:
                throw new FormatException($"STORAGETYPE is local, s3 or azure, not '{storageType}'");
        }
    }

    /// <summary>
    /// The registry from <c>koalja-services-config</c>'s key <c>config</c> (YAML): <c>annotated-value-registry-name</c>
    /// (<c>sqlite</c>, the default, on the router's volume; or <c>postgres</c>, with
    /// <c>annotated-value-registry-secret</c> naming a Secret whose key <c>url</c> is the connection string). The
    /// original's <c>stub-annotatedvalue-registry</c> means the default; <c>link-agent-name</c> is accepted and has no
    /// effect (links live in the router). Returns the Secret's name, or null for SQLite.
    /// </summary>
    public static string? RegistrySecret(IReadOnlyDictionary<string, string>? data, string source)
    {
        if (data is null)
        {
            return null;
        }

        if (!data.TryGetValue("config", out var text))
        {
            throw new FormatException($"{source} has no key 'config'");
        }

        var entry = Mapping(text, $"{source} key 'config'");
        var unknown = entry.Keys.Except(ServicesKeys, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException($"{source} key 'config': unknown {string.Join(", ", unknown.Select(k => $"'{k}'"))}; known are {string.Join(", ", ServicesKeys)}");
        }

        var name = entry.GetValueOrDefault("annotated-value-registry-name") is { Length: > 0 } n ? n : "sqlite";
        switch (name)
        {
            case "sqlite" or "stub-annotatedvalue-registry":
                return null;
            case "postgres":
                return entry.GetValueOrDefault("annotated-value-registry-secret") is { Length: > 0 } secret && KubeNames.IsDnsSubdomain(secret) ? secret
                    : throw new FormatException($"{source} key 'config': the postgres registry needs 'annotated-value-registry-secret', the name of a Secret whose key 'url' is the connection string");
            default:
                throw new FormatException($"{source} key 'config': the registry '{name}' is not supported; use {string.Join(" or ", Registries)}"
                    + (name.Contains("arango", StringComparison.OrdinalIgnoreCase) ? " (ArangoDB, the original's, cannot be used)" : ""));
        }
    }

    private static readonly string[] ServicesKeys = ["annotated-value-registry-name", "annotated-value-registry-secret", "link-agent-name"];

    private static Dictionary<string, string> DefaultEntry(IReadOnlyDictionary<string, string>? data, string source, string configMap)
    {
        if (data is null)
        {
            throw new FormatException($"the ConfigMap {configMap} was found neither in the pipeline's namespace nor in the operator's");
        }

        return data.TryGetValue("default", out var text) ? Mapping(text, $"{source} key 'default'")
            : throw new FormatException($"{source} has no key 'default' (one entry per bucket, and 'default' is the one used)");
    }

    private static string Required(Dictionary<string, string> entry, string key, string source) =>
        entry.GetValueOrDefault(key) is { Length: > 0 } value ? value
            : throw new FormatException($"{source}: the default entry has no '{key}'");

    /// <summary>A YAML mapping of scalars.</summary>
    private static Dictionary<string, string> Mapping(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"{source} is not YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            throw new FormatException($"{source} is not a mapping of keys to values");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } k } || value is not YamlScalarNode { Value: var v })
            {
                throw new FormatException($"{source}: every key and value is a plain value ('{key}' is not)");
            }

            result[k] = v ?? "";
        }

        return result;
    }
}
