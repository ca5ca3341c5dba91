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

    public async Task PumpAsync(Stream source, bool isError)
    {
        var buffer = new byte[8192];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await _lock.WaitAsync();
            try
            {
                await _file.WriteAsync(buffer.AsMemory(0, read));
            }
            finally
            {
                _lock.Release();
            }

            if (isError)
            {
                lock (_tail)
                {
                    for (var i = 0; i < read; i++)
                    {
                        _tail.Enqueue(buffer[i]);
                        if (_tail.Count > tailBytes)
                        {
                            _tail.Dequeue();
                        }
                    }
                }
            }
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
