using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Tests;

/// <summary>Every log entry, kept for assertions (and echoed to the test output when one is given).</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    /// <summary>Waits until an entry matches, up to <paramref name="timeout"/>.</summary>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No log entry matched within {timeout}; the last ones were:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, _entries.TakeLast(30).Select(e => $"{e.Level} {e.Category}: {e.Message}")));
            }

            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception,
                values.Where(v => v.Key != "{OriginalFormat}").ToDictionary(v => v.Key, v => v.Value?.ToString(), StringComparer.Ordinal)));
        }
    }
}

internal sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception, IReadOnlyDictionary<string, string?> Values);
