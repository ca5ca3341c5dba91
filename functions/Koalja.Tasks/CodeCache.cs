using Koalja.Core.Contract;
using System.Collections.Concurrent;
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

    private async Task<string> UnpackAsync(string version, CodeKind kind, string sha256, string? requestedEntrypoint, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(_root, CheckVersion(version));
        var gate = _locks.GetOrAdd(version, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        var temp = Path.Combine(_root, $".tmp-{Guid.NewGuid():N}");
        try
        {
            var package = temp + ".package";
            try
            {
                await _store.MaterializeAsync(sha256, package, cancellationToken);
                var entrypoint = await CodePackage.UnpackAsync(package, kind, Path.Combine(temp, "code"), requestedEntrypoint, cancellationToken);
                if (!Directory.Exists(directory))
                {
                    Directory.Move(Path.Combine(temp, "code"), directory);
                }

                return entrypoint;
            }
            finally
            {
                File.Delete(package);
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
