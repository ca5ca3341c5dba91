using Koalja.Core.Contract;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Koalja.Storage;

/// <summary>
/// Content-addressed storage in a local directory: <c>&lt;root&gt;/sha256/ab/&lt;hex&gt;</c>. Content is
/// written to a temporary file while it is hashed, flushed to disk, then renamed to its address; the
/// directory entry is flushed too, so an address that was returned survives a crash.
/// </summary>
public sealed partial class LocalArtifactStore : IArtifactStore
{
    /// <summary>Chunk size for streaming; buffers are pooled and file streams unbuffered, so storing allocates next to nothing.</summary>
    private const int BufferSize = 128 * 1024;
    private readonly string _root;
    private readonly string _temp;

    public LocalArtifactStore(string root)
    {
        _root = Path.GetFullPath(root);
        _temp = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(Path.Combine(_root, "sha256"));
        Directory.CreateDirectory(_temp);
    }

    public string Root => _root;

    public async Task<StoredArtifact> PutAsync(Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            string sha256;
            long size = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new ArtifactTooLargeException(maxBytes);
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                file.Flush(flushToDisk: true);
                sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var target = PathOf(sha256);
            if (File.Exists(target))
            {
                File.Delete(temp); // same content already stored
            }
            else
            {
                var directory = Path.GetDirectoryName(target)!;
                Directory.CreateDirectory(directory);
                File.Move(temp, target, overwrite: true);
                FlushDirectory(directory);
            }

            return new StoredArtifact(sha256, size);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public Task<Stream> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
    {
        var path = PathOf(sha256);
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream>(new VerifyingReadStream(file, sha256, file.Length));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArtifactNotFoundException(sha256);
        }
    }

    public Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(PathOf(sha256)));

    public Task<bool> DeleteAsync(string sha256, CancellationToken cancellationToken = default)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    public async Task MaterializeAsync(string sha256, string destination, CancellationToken cancellationToken = default)
    {
        // A copy, not a hard link: a command that appends to its input in place would otherwise change
        // the stored content (and permissions do not stop root). The copy is checked against the address.
        await using var input = await OpenReadAsync(sha256, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        await using var output = File.Create(destination);
        await input.CopyToAsync(output, BufferSize, cancellationToken);
    }

    /// <summary>Recomputes the hash of stored content and throws when it no longer matches.</summary>
    public async Task VerifyAsync(string sha256, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenReadAsync(sha256, cancellationToken);
        await stream.CopyToAsync(Stream.Null, BufferSize, cancellationToken);
    }

    public string PathOf(string sha256)
    {
        if (!ArtifactUri.IsSha256(sha256))
        {
            throw new ArgumentException($"'{sha256}' is not a SHA-256 in lower-case hex.", nameof(sha256));
        }

        return Path.Combine(_root, "sha256", sha256[..2], sha256);
    }

    private static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }

        _ = Fsync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
