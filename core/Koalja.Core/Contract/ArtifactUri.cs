namespace Koalja.Core.Contract;

/// <summary>The URI of stored content, independent of where it is stored: <c>sha256:&lt;64 hex digits&gt;</c>.</summary>
public static class ArtifactUri
{
    public const string Scheme = "sha256";

    public static string For(string sha256) => $"{Scheme}:{sha256}";

    public static bool TryParse(string? uri, out string sha256)
    {
        sha256 = "";
        if (uri is null || !uri.StartsWith(Scheme + ":", StringComparison.Ordinal))
        {
            return false;
        }

        var hex = uri[(Scheme.Length + 1)..];
        if (!IsSha256(hex))
        {
            return false;
        }

        sha256 = hex;
        return true;
    }

    public static bool IsSha256(string hex) => hex.Length == 64 && hex.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
