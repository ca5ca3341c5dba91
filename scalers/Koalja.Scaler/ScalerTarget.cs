using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Koalja.Core.Diagnostics;
using Koalja.Core.Scaling;

namespace Koalja.Scaler;

/// <summary>
/// What a ScaledObject's trigger asks the scaler about, from its <c>scalerMetadata</c>, validated: the pipeline and task
/// (in the ScaledObject's namespace), the snapshots one replica is meant to carry, and an optional cap on replicas.
/// </summary>
public sealed record ScalerTarget(string Namespace, string Pipeline, string Task, int TargetSnapshotsPerReplica, int? MaxReplicas)
{
    public const string PipelineKey = "pipeline";
    public const string TaskKey = "task";
    public const string TargetKey = "targetSnapshotsPerReplica";
    public const string MaxReplicasKey = "maxReplicas";
    public const int MostSnapshotsPerReplica = 100_000;
    public const int MostReplicas = 10_000;

    /// <summary>Keys KEDA itself reads from a trigger's metadata and passes on with the rest; the scaler leaves them alone.</summary>
    private static readonly string[] KedaKeys = ["scalerAddress", "enableTLS", "unsafeSsl", "tlsCertFile"];

    private static readonly string[] OwnKeys = [PipelineKey, TaskKey, TargetKey, MaxReplicasKey];

    /// <summary>
    /// The name of the task's metric: unique per namespace, pipeline and task (a hash of the exact names follows their
    /// lower-cased forms, which alone could collide: <c>countLines</c> and <c>countlines</c>).
    /// </summary>
    public string MetricName
    {
        get
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Namespace}/{Pipeline}/{Task}")))[..8];
            return $"koalja-{Slug(Pipeline)}-{Slug(Task)}-{hash}";
        }
    }

    /// <summary>The bounds the scaling decision works in: no replica kept idle, at most <see cref="MaxReplicas"/> (else unbounded here: the ScaledObject's maxReplicaCount governs).</summary>
    public ScalingLimits Limits => new(0, MaxReplicas ?? int.MaxValue, TargetSnapshotsPerReplica);

    /// <summary>Reads and checks the metadata; every problem is named in the exception's message.</summary>
    /// <exception cref="ScalerMetadataException">A key is missing, unknown, given twice or out of bounds.</exception>
    public static ScalerTarget Parse(string? @namespace, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            // KEDA resolves "xFromEnv" from the target's environment and passes it under the same key.
            var name = key.EndsWith("FromEnv", StringComparison.Ordinal) && OwnKeys.Contains(key[..^"FromEnv".Length], StringComparer.Ordinal) ? key[..^"FromEnv".Length] : key;
            if (OwnKeys.Contains(name, StringComparer.Ordinal))
            {
                if (!values.TryAdd(name, value))
                {
                    problems.Add($"'{name}' is given twice (as '{name}' and '{name}FromEnv')");
                }
            }
            else if (!KedaKeys.Contains(key, StringComparer.Ordinal))
            {
                var hint = Suggestions.DidYouMean(key, OwnKeys) is { } didYouMean ? $" ({didYouMean})" : "";
                problems.Add($"unknown key '{key}'{hint}; Koalja's scaler reads {string.Join(", ", OwnKeys)}");
            }
        }

        var pipeline = Required(values, PipelineKey, problems);
        var task = Required(values, TaskKey, problems);
        var target = Number(values, TargetKey, 1, MostSnapshotsPerReplica, problems) ?? 1;
        var max = Number(values, MaxReplicasKey, 1, MostReplicas, problems);
        if (problems.Count > 0)
        {
            throw new ScalerMetadataException(problems);
        }

        return new ScalerTarget(@namespace ?? "", pipeline!, task!, target, max);
    }

    private static string? Required(Dictionary<string, string> values, string key, List<string> problems)
    {
        if (!values.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"'{key}' is required (the {key} whose snapshots scale this target)");
            return null;
        }

        return value.Trim();
    }

    private static int? Number(Dictionary<string, string> values, string key, int least, int most, List<string> problems)
    {
        if (!values.TryGetValue(key, out var text))
        {
            return null;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < least || number > most)
        {
            problems.Add($"'{key}' must be a whole number from {least} to {most:N0}; it is '{text}'");
            return null;
        }

        return number;
    }

    private static string Slug(string name)
    {
        var slug = new StringBuilder(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            slug.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        return slug.ToString().Trim('-') is { Length: > 0 } s ? s[..Math.Min(s.Length, 40)] : "x";
    }
}

/// <summary>A ScaledObject's scaler metadata that the scaler cannot use; the message names every problem.</summary>
public sealed class ScalerMetadataException(IReadOnlyList<string> problems)
    : ArgumentException("Koalja's scaler cannot use this ScaledObject's trigger metadata: " + string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
