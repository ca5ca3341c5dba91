using System.Text;

namespace Koalja.Tasks;

/// <summary>Writes a process's stdout and stderr, as they come, into one log file, and keeps the end of stderr.</summary>
internal sealed class LogWriter(string path, int tailBytes) : IAsyncDisposable
{
    private readonly FileStream _file = new(path, FileMode.Create, FileAccess.Write, FileShare.Read, 16 * 1024, FileOptions.Asynchronous);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Queue<byte> _tail = new();
    private bool _disposed;

    public string StderrTail
    {
        get
        {
            lock (_tail)
            {
                return Encoding.UTF8.GetString(_tail.ToArray()).TrimEnd();
            }
        }
    }

    /// <summary>Copies <paramref name="source"/> into the log until it ends, or is closed under it (a holder of the pipe that could not be killed).</summary>
    public async Task PumpAsync(Stream source, bool isError)
    {
        var buffer = new byte[8192];
        int read;
        while ((read = await ReadAsync(source, buffer)) > 0)
        {
            await AppendAsync(buffer.AsMemory(0, read), isError);
        }
    }

    /// <summary>Output of the command, as it came (from a pipe, or relayed from its sandbox).</summary>
    public async Task AppendAsync(ReadOnlyMemory<byte> output, bool isError)
    {
        await _lock.WaitAsync();
        try
        {
            await _file.WriteAsync(output);
        }
        finally
        {
            _lock.Release();
        }

        if (isError)
        {
            lock (_tail)
            {
                foreach (var b in output.Span)
                {
                    _tail.Enqueue(b);
                    if (_tail.Count > tailBytes)
                    {
                        _tail.Dequeue();
                    }
                }
            }
        }
    }

    /// <summary>A line of Koalja's own in the log (after the command's output).</summary>
    public async Task NoteAsync(string line)
    {
        await _lock.WaitAsync();
        try
        {
            await _file.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
        }
        finally
        {
            _lock.Release();
        }
    }

    private static async Task<int> ReadAsync(Stream source, byte[] buffer)
    {
        try
        {
            return await source.ReadAsync(buffer);
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _file.DisposeAsync();
        _lock.Dispose();
    }
}
