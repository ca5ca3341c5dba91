using System.Text.Json;
using Koalja.Router.Api;

namespace Koalja.Router.Hosting;

/// <summary>
/// The layout of a data directory: <c>registry.db</c>, <c>blobs/</c>, <c>work/</c>, <c>code/</c> (dropped code,
/// unpacked), <c>keys.json</c> (the API keys), and while a server runs,
/// <c>server.json</c> (its URL and process id) and a lock that keeps a second server out.
/// </summary>
public sealed class DataDirectory : IDisposable
{
    private FileStream? _lock;

    /// <summary>The data directory's mode: its owner's only. Everything in it (the registry, stored values, keys, code) is then out of other local users' reach, whatever each file's own mode.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public DataDirectory(string path)
    {
        Root = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Root);
            return;
        }

        Directory.CreateDirectory(Root, Mode);
        try
        {
            // An existing directory (from an older version, or made by hand) is closed too, when it is ours to change.
            if ((File.GetUnixFileMode(Root) & ~Mode) != 0)
            {
                File.SetUnixFileMode(Root, Mode);
            }
        }
        catch (UnauthorizedAccessException)
        {
            // not its owner (a volume's root owned by another user): its owner decides
        }
    }

    public string Root { get; }

    public string RegistryPath => Path.Combine(Root, "registry.db");

    public string BlobsPath => Path.Combine(Root, "blobs");

    public string WorkPath => Path.Combine(Root, "work");

    public string ServerFile => Path.Combine(Root, "server.json");

    public string CodePath => Path.Combine(Root, "code");

    public string KeysFile => Path.Combine(Root, "keys.json");

    /// <summary>The server's API keys; made (random, readable by the owner only) the first time.</summary>
    public ApiKeys LoadOrCreateKeys()
    {
        if (File.Exists(KeysFile))
        {
            return ReadKeys(Root) ?? throw new InvalidOperationException(
                $"{KeysFile} is not valid: it must be {{\"admin\": \"...\", \"function\": \"...\"}} with keys of 16 characters or more. Fix it, or delete it to get new keys.");
        }

        var keys = ApiKeys.Create();
        var temp = KeysFile + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, new Dictionary<string, string> { ["admin"] = keys.Admin, ["function"] = keys.Function });
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, KeysFile, overwrite: false);
        return keys;
    }

    /// <summary>The keys in <paramref name="root"/>'s keys.json, if it has valid ones.</summary>
    public static ApiKeys? ReadKeys(string root)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "keys.json")));
            var admin = json.RootElement.GetProperty("admin").GetString();
            var function = json.RootElement.GetProperty("function").GetString();
            return admin is { Length: >= 16 } && function is { Length: >= 16 } ? new ApiKeys(admin, function) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Takes the directory for this process; fails with a clear message when another server holds it.</summary>
    public void Lock()
    {
        try
        {
            _lock = new FileStream(Path.Combine(Root, "server.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var other = ReadServer(Root);
            throw new InvalidOperationException(
                $"Another Koalja server is using {Root}{(other is null ? "" : $" (pid {other.Value.Pid}, {other.Value.Url})")}; stop it, or use another --data directory.");
        }
    }

    /// <summary>Whether a server holds <paramref name="root"/> now (its lock is taken); false also for a directory that does not exist.</summary>
    public static bool IsServed(string root)
    {
        var path = Path.Combine(root, "server.lock");
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true; // not ours to probe: someone's server
        }
    }

    public void WriteServer(Uri url)
    {
        var temp = ServerFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new Dictionary<string, object> { ["url"] = url.ToString().TrimEnd('/'), ["pid"] = Environment.ProcessId }));
        File.Move(temp, ServerFile, overwrite: true);
    }

    /// <summary>The URL and pid of the server using <paramref name="root"/>, if one wrote its file.</summary>
    public static (string Url, int Pid)? ReadServer(string root)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "server.json")));
            return (json.RootElement.GetProperty("url").GetString()!, json.RootElement.GetProperty("pid").GetInt32());
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_lock is null)
        {
            return;
        }

        try
        {
            File.Delete(ServerFile);
        }
        catch (IOException)
        {
            // the next server overwrites it
        }

        _lock.Dispose();
        _lock = null;
    }
}
