using System.Security.Cryptography;
using System.Text;

namespace Koalja.Operator;

/// <summary>
/// Names of the objects made for a pipeline: valid DNS-1123 labels (at most 63 lower-case letters, digits and '-')
/// that never collide. Parts are joined with '-'; when that is not already such a name made of parts without '-'
/// (a camelCase task, a '_', a part with '-' that would make the join ambiguous, an overlong name) a short hash of
/// the exact parts follows, so <c>countLines</c> and <c>countlines</c>, or pipeline <c>a-b</c> task <c>c</c> and
/// pipeline <c>a</c> task <c>b-c</c>, get different names.
/// </summary>
public static class KubeNames
{
    public const int MaxLength = 63;
    private const int HashLength = 8;

    /// <summary>The pipeline's router: its Deployment and Service.</summary>
    public static string Router(string pipeline) => Join(pipeline, "router");

    /// <summary>A task's function: its Deployment, (headless) Service and ScaledObject.</summary>
    public static string Task(string pipeline, string task) => Join(pipeline, "t", task);

    /// <summary>The pipeline's ingress (HTTPProxy or Ingress).</summary>
    public static string Ingress(string pipeline) => Join(pipeline);

    /// <summary>Joins <paramref name="parts"/> into one DNS-1123 label, hashed where the plain join could collide or is not valid.</summary>
    public static string Join(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0 || parts.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Every part of a name must be non-empty.", nameof(parts));
        }

        var plain = string.Join('-', parts);
        if (plain.Length <= MaxLength && parts.All(IsPlainPart))
        {
            return plain;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', parts))))[..HashLength];
        var baseName = new StringBuilder(plain.Length);
        foreach (var c in plain.ToLowerInvariant())
        {
            baseName.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : '-');
        }

        var trimmed = baseName.ToString();
        trimmed = trimmed[..Math.Min(trimmed.Length, MaxLength - HashLength - 1)].Trim('-');
        while (trimmed.Contains("--", StringComparison.Ordinal))
        {
            trimmed = trimmed.Replace("--", "-", StringComparison.Ordinal);
        }

        return trimmed.Length == 0 ? "x-" + hash : $"{trimmed}-{hash}";
    }

    /// <summary>A valid DNS-1123 label (what the API server accepts as a name).</summary>
    public static bool IsDnsLabel(string name) =>
        name.Length is > 0 and <= MaxLength
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-';

    /// <summary>A valid DNS-1123 subdomain (what most object names, e.g. a Secret's, may be).</summary>
    public static bool IsDnsSubdomain(string name) =>
        name.Length is > 0 and <= 253 && name.Split('.').All(IsDnsLabel);

    private static bool IsPlainPart(string part) => part.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')) && part[0] is >= 'a' and <= 'z';
}
