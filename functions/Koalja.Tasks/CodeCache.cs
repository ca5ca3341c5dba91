using Koalja.Core.Contract;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Koalja.Storage;

namespace Koalja.Tasks;

/// <summary>
/// Dropped code unpacked on this machine, one directory per code version under <c>root</c>. A directory
/// appears by an atomic rename of a complete unpack, so a crash leaves at most a temporary directory
/// (removed at the next start), never a half-unpacked version. Any replica can rebuild it from the
/// stored bytes (by content hash): the cache holds nothing the store does not.
/// </summary>
public sealed class CodeCache
{
    private readonly string _root;
    private readonly IArtifactStore _store;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public CodeCache(string root, IArtifactStore store)
    {
        _root = Path.GetFullPath(root);
        _store = store;
        Directory.CreateDirectory(_root);
        foreach (var temp in Directory.EnumerateDirectories(_root, ".tmp-*"))
        {
            Directory.Delete(temp, recursive: true);
        }

        foreach (var temp in Directory.EnumerateFiles(_root, ".tmp-*"))
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Receives dropped code into a file of this cache, hashing it, but not into the store: code is stored only once
    /// <see cref="InstallAsync(StagedCode, string, CodeKind, string?, CancellationToken)"/> has found it usable, so refused
    /// code leaves nothing behind. Dispose the result to remove the file.
    /// </summary>
    /// <exception cref="ArtifactTooLargeException">More than <paramref name="maxBytes"/> bytes were offered.</exception>
    public async Task<StagedCode> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, $".tmp-{Guid.NewGuid():N}.staged");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var head = new byte[StagedCode.HeadLength];
            var headLength = 0;
            long size = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                var buffer = new byte[128 * 1024];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new ArtifactTooLargeException(maxBytes);
                    }

                    var toHead = Math.Min(read, head.Length - headLength);
                    buffer.AsSpan(0, toHead).CopyTo(head.AsSpan(headLength));
                    headLength += toHead;
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            return new StagedCode(path, Convert.ToHexStringLower(hash.GetHashAndReset()), size, head[..headLength]);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Unpacks stored code for a new version and checks it; returns the code with its entrypoint.
    /// Throws <see cref="CodePackageException"/> for code that cannot be used.
    /// </summary>
    public async Task<TaskCode> InstallAsync(string version, CodeKind kind, string sha256, string? requestedEntrypoint, CancellationToken cancellationToken)
    {
        var entrypoint = await UnpackAsync(version, kind, sha256, requestedEntrypoint, cancellationToken);
        return new TaskCode(version, kind, sha256, entrypoint);
    }

    /// <summary>
    /// Unpacks staged code for a new version and checks it, then stores its bytes (the content hash is
    /// <see cref="StagedCode.Sha256"/>); returns the code with its entrypoint. Code that cannot be used throws
    /// <see cref="CodePackageException"/> and is not stored.
    /// </summary>
    public async Task<TaskCode> InstallAsync(StagedCode staged, string version, CodeKind kind, string? requestedEntrypoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        var entrypoint = await UnpackAsync(version, kind, staged.Sha256, requestedEntrypoint, cancellationToken, staged);
        return new TaskCode(version, kind, staged.Sha256, entrypoint);
    }

    /// <summary>The directory of <paramref name="code"/>, unpacked from the store when this machine does not have it yet.</summary>
    public async Task<string> DirectoryOfAsync(TaskCode code, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(_root, CheckVersion(code.Version));
        if (!Directory.Exists(directory))
        {
            await UnpackAsync(code.Version, code.Kind, code.Sha256, code.Kind == CodeKind.Script && code.Entrypoint == CodePackage.ScriptName ? null : code.Entrypoint, cancellationToken);
        }

        return directory;
    }

    /// <summary>Unpacks code into its version's directory: the stored bytes, or <paramref name="staged"/> ones, which are stored once they unpacked.</summary>
    private async Task<string> UnpackAsync(string version, CodeKind kind, string sha256, string? requestedEntrypoint, CancellationToken cancellationToken, StagedCode? staged = null)
    {
        var directory = Path.Combine(_root, CheckVersion(version));
        var gate = _locks.GetOrAdd(version, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        var temp = Path.Combine(_root, $".tmp-{Guid.NewGuid():N}");
        try
        {
            var package = staged?.Path ?? temp + ".package";
            try
            {
                if (staged is null)
                {
                    await _store.MaterializeAsync(sha256, package, cancellationToken);
                }

                var entrypoint = await CodePackage.UnpackAsync(package, kind, Path.Combine(temp, "code"), requestedEntrypoint, cancellationToken);
                if (staged is not null)
                {
                    // stored before its directory appears: the cache holds nothing the store does not
                    await using var file = File.OpenRead(package);
                    var stored = await _store.PutAsync(file, long.MaxValue, cancellationToken);
                    if (stored.Sha256 != sha256)
                    {
                        throw new InvalidOperationException($"Staged code {sha256} changed on disk before it was stored (now {stored.Sha256}).");
                    }
                }

                if (!Directory.Exists(directory))
                {
                    Directory.Move(Path.Combine(temp, "code"), directory);
                }

                return entrypoint;
            }
            finally
            {
                if (staged is null)
                {
                    File.Delete(package);
                }
            }
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            gate.Release();
        }
    }

    /// <summary>Versions are our own hex ids; anything else must not become a path.</summary>
    private static string CheckVersion(string version) =>
        version.Length is > 0 and <= 64 && version.All(char.IsAsciiHexDigitLower)
            ? version
            : throw new ArgumentException($"'{version}' is not a code version id.", nameof(version));
}

/// <summary>Dropped code received into the cache's directory (<see cref="CodeCache.StageAsync"/>) and not stored yet; disposing removes the file.</summary>
public sealed class StagedCode : IDisposable
{
    /// <summary>How many of the first bytes <see cref="Head"/> keeps (enough for <see cref="CodePackage.Detect"/>).</summary>
    public const int HeadLength = 4;

    internal StagedCode(string path, string sha256, long size, byte[] head)
    {
        Path = path;
        Sha256 = sha256;
        Size = size;
        Head = head;
    }

    internal string Path { get; }

    /// <summary>The content hash the code is stored under once installed.</summary>
    public string Sha256 { get; }

    public long Size { get; }

    /// <summary>The first bytes (up to <see cref="HeadLength"/>).</summary>
    public ReadOnlyMemory<byte> Head { get; }

    public void Dispose() => File.Delete(Path);
}
