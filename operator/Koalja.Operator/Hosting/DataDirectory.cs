using System.Text.Json;

namespace Koalja.Operator.Hosting;

/// <summary>
/// The layout of a data directory: <c>registry.db</c>, <c>blobs/</c>, <c>work/</c>, and while a server runs,
/// <c>server.json</c> (its URL and process id) and a lock that keeps a second server out.
/// </summary>
public sealed class DataDirectory : IDisposable
{
    private FileStream? _lock;

    public DataDirectory(string path)
    {
        Root = Path.GetFullPath(path);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string RegistryPath => Path.Combine(Root, "registry.db");

    public string BlobsPath => Path.Combine(Root, "blobs");

    public string WorkPath => Path.Combine(Root, "work");

    public string ServerFile => Path.Combine(Root, "server.json");

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
