using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Koalja.Cli.Commands;

/// <summary>
/// How the koalja commands that serve (up, operator, functions-host) write their log: one line per message, the time,
/// the level unless it is information, and the message; the category only for messages that are not Koalja's own
/// (a web server warning says where it came from), and an exception's type and message (its stack trace with --verbose).
/// </summary>
internal sealed class ConsoleLog : ConsoleFormatter
{
    public const string FormatterName = "koalja";

    public ConsoleLog(IOptionsMonitor<ConsoleFormatterOptions> options)
        : base(FormatterName) => Verbose = options.CurrentValue.IncludeScopes;

    /// <summary>Stack traces shown (set through <see cref="ConsoleFormatterOptions.IncludeScopes"/>, which nothing else here uses).</summary>
    private bool Verbose { get; }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message.Length == 0 && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(DateTime.Now.ToString("HH:mm:ss ", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(logEntry.LogLevel switch
        {
            LogLevel.Information => "",
            LogLevel.Warning => "warning: ",
            LogLevel.Error => "error: ",
            LogLevel.Critical => "critical: ",
            _ => logEntry.LogLevel.ToString().ToLowerInvariant() + ": ",
        });
        if (!logEntry.Category.StartsWith("Koalja", StringComparison.Ordinal))
        {
            textWriter.Write($"[{logEntry.Category}] ");
        }

        textWriter.Write(message.ReplaceLineEndings(" "));
        if (logEntry.Exception is { } e)
        {
            textWriter.Write(Verbose ? Environment.NewLine + e : $" ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})");
        }

        textWriter.WriteLine();
    }
}

internal static class ConsoleLogExtensions
{
    /// <summary>The console log of the koalja commands (<see cref="ConsoleLog"/>); <paramref name="verbose"/> adds stack traces.</summary>
    public static ILoggingBuilder AddKoaljaConsole(this ILoggingBuilder logging, bool verbose = false) => logging
        .AddConsole(o => o.FormatterName = ConsoleLog.FormatterName)
        .AddConsoleFormatter<ConsoleLog, ConsoleFormatterOptions>(o => o.IncludeScopes = verbose);
}
