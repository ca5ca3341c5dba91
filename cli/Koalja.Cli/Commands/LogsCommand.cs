using System.CommandLine;
using System.Globalization;
using System.Net;
using Koalja.Router.Api;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja logs</c>: what an execution's command wrote. An execution id prints its log; a value id, the log of the
/// execution that made it; <c>PIPELINE/TASK</c>, the task's latest executions, each under a header line, and with
/// <c>--follow</c> every execution after them as it finishes.
/// </summary>
internal static class LogsCommand
{
    private static readonly TimeSpan FollowEvery = TimeSpan.FromMilliseconds(500);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("target") { Description = "An execution id, a value id (the execution that made it), or PIPELINE/TASK (its latest executions)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "With PIPELINE/TASK: go on printing executions as they finish, until interrupted" };
        var limit = new Option<int>("--limit") { Description = "With PIPELINE/TASK: how many of the latest executions to print first (1 to 1000)", DefaultValueFactory = _ => 5 };
        var command = new Command("logs", "Print what executions wrote (stdout and stderr of their commands)") { target, follow, limit, ClientCommands.Url, ClientCommands.Data, ClientCommands.Key };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            var text = parse.GetValue(target)!;
            var count = parse.GetValue(limit);
            if (count is < 1 or > 1000)
            {
                throw new CliException($"--limit {count} is not 1 to 1000");
            }

            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            if (parse.GetValue(follow) && client.Offline)
            {
                throw new CliException($"--follow needs a running server: none runs on {parse.GetValue(ClientCommands.Data)}, so nothing more will finish");
            }

            if (text.Contains('/', StringComparison.Ordinal))
            {
                var (pipeline, task) = ClientCommands.SplitTarget(text);
                return await TaskLogsAsync(client, pipeline, task, count, parse.GetValue(follow), stdout, ct);
            }

            if (parse.GetValue(follow))
            {
                throw new CliException("--follow goes with PIPELINE/TASK: one execution's log does not grow");
            }

            var execution = await ExecutionOfAsync(client, await ClientCommands.FullIdAsync(client, text, ct), ct);
            stderr.WriteLine(Header(execution));
            await WriteLogAsync(client, execution, stdout, ct);
            return 0;
        }));
        return command;
    }

    /// <summary>The execution named by an execution id, or the one that made a value.</summary>
    private static async Task<ExecutionSummaryDto> ExecutionOfAsync(KoaljaClient client, string id, CancellationToken ct)
    {
        try
        {
            return (await client.GetJsonAsync($"api/executions/{Uri.EscapeDataString(id)}", ApiJsonContext.Default.ExecutionDetailDto, ct)).Execution;
        }
        catch (CliException e) when (e.Status == HttpStatusCode.NotFound)
        {
            ValueDetailDto value;
            try
            {
                value = await client.GetJsonAsync($"api/values/{Uri.EscapeDataString(id)}", ApiJsonContext.Default.ValueDetailDto, ct);
            }
            catch (CliException v) when (v.Status == HttpStatusCode.NotFound)
            {
                throw new CliException($"'{id}' is neither an execution nor a value");
            }

            if (value.Execution is not { } made)
            {
                throw new CliException($"Value {id} was not made by an execution (it came into {value.Value.Pipeline}/{value.Value.Task} from outside); it has no log");
            }

            return (await client.GetJsonAsync($"api/executions/{Uri.EscapeDataString(made.Id)}", ApiJsonContext.Default.ExecutionDetailDto, ct)).Execution;
        }
    }

    /// <summary>
    /// How far back, before the latest end seen, a follow looks again: executions are listed by when they ended, as their
    /// runner's clock says, and one that ended earlier may be recorded later (slots running side by side, a recording
    /// retried, pods' clocks apart).
    /// </summary>
    private static readonly TimeSpan FollowMargin = TimeSpan.FromMinutes(2);

    private static async Task<int> TaskLogsAsync(KoaljaClient client, string pipeline, string task, int count, bool follow, TextWriter stdout, CancellationToken ct)
    {
        var path = $"api/pipelines/{Uri.EscapeDataString(pipeline)}/tasks/{Uri.EscapeDataString(task)}/executions";
        // With --follow, what was there before counts as seen, printed or not (the latest count of it are).
        var before = (await client.GetJsonAsync($"{path}?limit={(follow ? 1000 : count)}", ApiJsonContext.Default.ExecutionPageDto, ct)).Executions;
        var latest = before.Take(count).ToList();
        if (latest.Count == 0 && !follow)
        {
            stdout.WriteLine($"{pipeline}/{task} has no executions yet");
        }

        foreach (var execution in Enumerable.Reverse(latest))
        {
            await PrintAsync(client, execution, stdout, ct);
        }

        if (!follow)
        {
            return 0;
        }

        // Every execution ending within the margin of the latest seen is looked at again, and printed once.
        var seen = before.ToDictionary(e => e.Id, e => e.Finished, StringComparer.Ordinal);

        try
        {
            while (true)
            {
                await Task.Delay(FollowEvery, ct);
                await FollowOnceAsync(client, path, seen, stdout, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0; // interrupted: --follow ends here
        }
    }

    private static async Task FollowOnceAsync(KoaljaClient client, string path, Dictionary<string, DateTimeOffset> seen, TextWriter stdout, CancellationToken ct)
    {
        DateTimeOffset? horizon = seen.Count == 0 ? null : seen.Values.Max() - FollowMargin; // none seen yet: the newest page is all there is
        var fresh = new List<ExecutionSummaryDto>();
        string? before = null;
        do
        {
            var page = await client.GetJsonAsync($"{path}?limit=100" + (before is null ? "" : $"&before={Uri.EscapeDataString(before)}"), ApiJsonContext.Default.ExecutionPageDto, ct);
            fresh.AddRange(page.Executions.Where(e => !seen.ContainsKey(e.Id)));
            before = horizon is { } h && page.Executions.Count > 0 && page.Executions[^1].Finished >= h ? page.Next : null;
        }
        while (before is not null);

        foreach (var execution in fresh.OrderBy(e => e.Finished).ThenBy(e => e.Id, StringComparer.Ordinal))
        {
            seen[execution.Id] = execution.Finished;
            await PrintAsync(client, execution, stdout, ct);
        }

        foreach (var old in seen.Where(e => horizon is { } h && e.Value < h - FollowMargin).Select(e => e.Key).ToList())
        {
            seen.Remove(old); // long behind the horizon: no page reaches it again
        }
    }

    private static async Task PrintAsync(KoaljaClient client, ExecutionSummaryDto execution, TextWriter stdout, CancellationToken ct)
    {
        stdout.WriteLine($"==> {Header(execution)} <==");
        await WriteLogAsync(client, execution, stdout, ct);
        stdout.Flush();
    }

    private static string Header(ExecutionSummaryDto e) =>
        string.Create(CultureInfo.InvariantCulture, $"{e.Pipeline}/{e.Task} execution {e.Id}: snapshot {e.SnapshotId} attempt {e.Attempt} {e.Status}")
        + (e.ExitCode is { } code ? string.Create(CultureInfo.InvariantCulture, $" (exit {code})") : "")
        + string.Create(CultureInfo.InvariantCulture, $" in {e.DurationMs:F0} ms on {e.Worker}, {e.Finished.ToLocalTime():yyyy-MM-dd HH:mm:ss}")
        + (e.Error is { Length: > 0 } error ? $": {error}" : "");

    private static async Task WriteLogAsync(KoaljaClient client, ExecutionSummaryDto execution, TextWriter stdout, CancellationToken ct)
    {
        if (execution.LogUri is null)
        {
            stdout.WriteLine(execution.ExitCode is null ? "(no log: the task ran no command)" : "(the command wrote nothing to stdout or stderr)");
            return;
        }

        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync($"api/executions/{Uri.EscapeDataString(execution.Id)}/log", ct);
        }
        catch (CliException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            stdout.WriteLine($"(no log: {e.Message})");
            return;
        }

        using var _ = response;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var buffer = new char[16 * 1024];
        var last = '\n';
        int read;
        while ((read = await reader.ReadAsync(buffer, ct)) > 0)
        {
            await stdout.WriteAsync(buffer.AsMemory(0, read), ct);
            last = buffer[read - 1];
        }

        if (last != '\n')
        {
            stdout.WriteLine();
        }
    }
}
