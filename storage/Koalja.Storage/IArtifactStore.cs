using Koalja.Core.Contract;
namespace Koalja.Storage;

/// <summary>
/// Content-addressed storage for the bytes of values and logs: content is stored under its SHA-256,
/// so equal content is stored once and every read can be checked against its address.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Stores <paramref name="content"/> (streamed, never buffered whole) and returns its address once the
    /// bytes are durable.
    /// </summary>
    /// <exception cref="ArtifactTooLargeException">More than <paramref name="maxBytes"/> bytes were offered.</exception>
    Task<StoredArtifact> PutAsync(Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default);

    /// <exception cref="ArtifactNotFoundException">Nothing is stored under that address.</exception>
    Task<Stream> OpenReadAsync(string sha256, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>Removes the content (for pruning, once nothing refers to it); false when nothing was stored under that address.</summary>
    Task<bool> DeleteAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>Makes the content available as a file of its own at <paramref name="destination"/>.</summary>
    Task MaterializeAsync(string sha256, string destination, CancellationToken cancellationToken = default);
}

/// <summary>Where stored content lives: its SHA-256 (lower-case hex), size and URI (<c>sha256:&lt;hex&gt;</c>).</summary>
public sealed record StoredArtifact(string Sha256, long Size)
{
    public string Uri => ArtifactUri.For(Sha256);
}
