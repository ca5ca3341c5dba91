namespace Koalja.Storage;

public sealed class ArtifactNotFoundException(string sha256) : Exception($"No content stored under sha256:{sha256}.")
{
    public string Sha256 { get; } = sha256;
}

public sealed class ArtifactTooLargeException(long limit) : Exception($"The content is larger than the limit of {limit:N0} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>Stored content no longer matches its address (disk corruption, tampering).</summary>
public sealed class ArtifactCorruptException(string sha256, string problem) : Exception($"Content stored under sha256:{sha256} is corrupt: {problem}.")
{
    public string Sha256 { get; } = sha256;
}
