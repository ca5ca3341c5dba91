namespace Koalja.Core.Spec;

/// <summary>How a <c>CloudEventSink</c> sends events: <c>binary</c> (attributes in <c>ce-*</c> headers) or <c>structured</c> (one JSON document).</summary>
public enum CloudEventSinkMode
{
    Binary,
    Structured,
}

/// <summary>The options of a <c>CloudEventSink</c> task (<c>options:</c> of the task): where to deliver, and in which HTTP content mode.</summary>
public sealed record CloudEventSinkOptions(Uri Url, CloudEventSinkMode Mode)
{
    public const string UrlOption = "url";
    public const string ModeOption = "mode";

    public static readonly IReadOnlyList<string> Names = [UrlOption, ModeOption];

    public static readonly IReadOnlyList<string> Modes = ["binary", "structured"];

    /// <summary>The options of a validated sink task.</summary>
    public static CloudEventSinkOptions Of(TaskSpec task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var problems = Problems(task);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"Task '{task.Name}': {problems[0].Message}; validate the pipeline first.");
        }

        return new CloudEventSinkOptions(new Uri(task.Option(UrlOption)!, UriKind.Absolute),
            task.Option(ModeOption) is "structured" ? CloudEventSinkMode.Structured : CloudEventSinkMode.Binary);
    }

    /// <summary>What is wrong with a sink task's options: (option, missing or invalid, message, hint).</summary>
    public static IReadOnlyList<(string Option, bool Missing, string Message, string Hint)> Problems(TaskSpec task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var problems = new List<(string, bool, string, string)>();
        var url = task.Option(UrlOption);
        if (string.IsNullOrWhiteSpace(url))
        {
            problems.Add((UrlOption, true, $"CloudEventSink task '{task.Name}' needs the option 'url'",
                "add options: {url: http://receiver.example/events} to the task: the address the events are POSTed to"));
        }
        else if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.UserInfo.Length > 0)
        {
            problems.Add((UrlOption, false, $"Invalid url '{url}' of CloudEventSink task '{task.Name}'",
                "an absolute http:// or https:// address without user name or password, e.g. http://127.0.0.1:8080/events"));
        }

        if (task.Option(ModeOption) is { } mode && !Modes.Contains(mode, StringComparer.Ordinal))
        {
            problems.Add((ModeOption, false, $"Invalid mode '{mode}' of CloudEventSink task '{task.Name}'",
                $"expected {string.Join(" or ", Modes)} (binary by default)"));
        }

        return problems;
    }
}
