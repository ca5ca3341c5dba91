using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Tests;

/// <summary>A logger provider that keeps what a server logs as errors (with the exception), so a test can say why it answered 500.</summary>
internal sealed class ErrorLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    /// <summary>The errors logged since the last call.</summary>
    public List<string> Take()
    {
        var taken = new List<string>();
        while (_entries.TryDequeue(out var entry))
        {
            taken.Add(entry);
        }

        return taken;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log._entries.Enqueue($"{category}: {formatter(state, exception)}{(exception is null ? "" : $"\n{exception}")}");
            }
        }
    }
}
