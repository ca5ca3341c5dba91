using Koalja.Core.Contract;

namespace Koalja.Storage;

/// <summary>Object names of a content-addressed store under a prefix: <c>{prefix}sha256/ab/{hex}</c>, and <c>{prefix}tmp/{guid}</c> while uploading.</summary>
internal static class ContentAddress
{
    /// <summary>A prefix as given, made to end in one '/' (or empty).</summary>
    public static string NormalisePrefix(string? prefix) => string.IsNullOrEmpty(prefix?.Trim('/')) ? "" : prefix.Trim('/') + "/";

    public static string Key(string prefix, string sha256) => ArtifactUri.IsSha256(sha256)
        ? $"{prefix}sha256/{sha256[..2]}/{sha256}"
        : throw new ArgumentException($"'{sha256}' is not a SHA-256 in lower-case hex.", nameof(sha256));

    public static string TemporaryKey(string prefix) => $"{prefix}tmp/{Guid.NewGuid():N}";
}
