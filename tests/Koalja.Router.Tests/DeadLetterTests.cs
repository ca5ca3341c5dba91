using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Koalja.Router.Runtime;

namespace Koalja.Router.Tests;

/// <summary>
/// Dead letters after the first run: a failure that running again cannot mend is dead-lettered at once; a dead letter
/// is retried with the task's fixed code (once more, recorded) or discarded, and both are kept as a record.
/// </summary>
public sealed class DeadLetterTests
{
    private static Core.Spec.Pipeline Pipeline(string script) => KoaljaTestServer.OneCommand("dl", script);

    private static RuntimeOptions Options => new() { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(20), CommandTimeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task AProgramThatIsNotFoundIsDeadLetteredAtOnceAndAnExitCodeIsRetried()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline(
            "if grep -q missing {{.inputs.in.path}}; then no-such-program-koalja; else exit 5; fi"), Options);
        await server.DropAsync("dl", "drop", "missing");
        await server.DropAsync("dl", "drop", "other");
        await server.WaitIdleAsync("dl");

        var letters = await DeadLettersAsync(server);
        Assert.Equal(2, letters.Count);
        var missing = letters.Single(l => l.GetProperty("attempts").GetInt32() == 1);
        Assert.Contains("exit code 127: a program the command runs was not found (not retried", missing.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("no-such-program-koalja", missing.GetProperty("stderrTail").GetString(), StringComparison.Ordinal);
        var retried = letters.Single(l => l.GetProperty("attempts").GetInt32() != 1);
        Assert.Equal((3, "exit code 5"), (retried.GetProperty("attempts").GetInt32(), retried.GetProperty("reason").GetString()));

        // A retry is one run more: failing again (here with an ordinary exit code), it is dead-lettered again at once, not given --max-attempts more.
        Assert.Equal(HttpStatusCode.Created, (await server.PutCodeAsync("dl", "work", Encoding.UTF8.GetBytes("#!/bin/sh\nexit 6\n"))).Status);
        var (status, _) = await PostAsync(server, "retry", $"?snapshot={missing.GetProperty("snapshotId").GetString()}");
        Assert.Equal(HttpStatusCode.OK, status);
        await server.WaitIdleAsync("dl");
        var again = (await DeadLettersAsync(server)).Single(l => l.GetProperty("snapshotId").GetString() == missing.GetProperty("snapshotId").GetString());
        Assert.Equal((2, "exit code 6"), (again.GetProperty("attempts").GetInt32(), again.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task ADeadLetterRetriedAfterTheCodeIsFixedRunsTheNewCodeAndADiscardedOneGoes()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("exit 4"), Options);
        var first = (await server.DropAsync("dl", "drop", "first")).GetProperty("id").GetString()!;
        await server.DropAsync("dl", "drop", "second");
        await server.WaitIdleAsync("dl");
        var letters = await DeadLettersAsync(server);
        Assert.Equal(2, letters.Count);

        // The refusals: a retry needs the admin key, names a task that exists and snapshots that are dead letters.
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(server, "retry", "", key: "")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(server, "retry", "?task=nope")).Status);
        var (unknown, problem) = await PostAsync(server, "retry", "?snapshot=not-a-snapshot");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Contains("not-a-snapshot", problem.GetProperty("title").GetString(), StringComparison.Ordinal);

        var (put, code) = await server.PutCodeAsync("dl", "work", Encoding.UTF8.GetBytes("#!/bin/sh\ntr a-z A-Z < \"$KOALJA_INPUT_IN\" > \"$KOALJA_OUTPUT_OUT\"\n"));
        Assert.Equal(HttpStatusCode.Created, put);
        var fixedVersion = code.GetProperty("version").GetProperty("id").GetString();

        var firstSnapshot = "";
        foreach (var letter in letters)
        {
            if (await SourceOfAsync(server, letter) == first)
            {
                firstSnapshot = letter.GetProperty("snapshotId").GetString()!;
            }
        }

        var (status, answer) = await PostAsync(server, "retry", $"?task=work&snapshot={firstSnapshot}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(firstSnapshot, Assert.Single(answer.GetProperty("deadLetters").EnumerateArray()).GetProperty("snapshotId").GetString());
        var pipeline = await server.WaitIdleAsync("dl");

        var value = Assert.Single(await server.ValuesAsync("dl", "work"));
        Assert.Equal("FIRST", await server.ContentAsync(value.GetProperty("id").GetString()!));
        Assert.Equal(fixedVersion, value.GetProperty("codeVersion").GetString());
        var made = (await server.ValueAsync(value.GetProperty("id").GetString()!)).GetProperty("execution");
        Assert.Equal(4, made.GetProperty("attempt").GetInt32()); // after the three that failed, which stay in the history
        var history = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/dl/tasks/work/executions?limit=10");
        Assert.Equal(4, history.GetProperty("executions").EnumerateArray().Count(e => e.GetProperty("snapshotId").GetString() == firstSnapshot));
        Assert.Single(await DeadLettersAsync(server));

        var (discarded, gone) = await PostAsync(server, "discard", "");
        Assert.Equal(HttpStatusCode.OK, discarded);
        Assert.Single(gone.GetProperty("deadLetters").EnumerateArray());
        Assert.Empty(await DeadLettersAsync(server));
        var work = (await server.WaitIdleAsync("dl")).GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "work");
        Assert.Equal((0L, 1L, 1L), (work.GetProperty("deadLettered").GetInt64(), work.GetProperty("discarded").GetInt64(), work.GetProperty("succeeded").GetInt64()));

        var actions = (await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/dl/dead-letters/actions")).EnumerateArray().ToList();
        Assert.Equal(["discarded", "retried"], actions.Select(a => a.GetProperty("action").GetString()));
        Assert.Equal(fixedVersion, actions[1].GetProperty("codeVersion").GetString());
        Assert.Equal("exit code 4", actions[1].GetProperty("deadLetter").GetProperty("reason").GetString());
        Assert.Equal(1, pipeline.GetProperty("deadLetters").GetInt64()); // one was left before the discard
    }

    /// <summary>The dropped value a dead letter's snapshot ran on.</summary>
    private static async Task<string> SourceOfAsync(KoaljaTestServer server, JsonElement letter)
    {
        var executions = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/dl/tasks/work/executions?limit=100");
        var execution = executions.GetProperty("executions").EnumerateArray().First(e => e.GetProperty("snapshotId").GetString() == letter.GetProperty("snapshotId").GetString());
        var detail = await server.Http.GetFromJsonAsync<JsonElement>($"api/executions/{execution.GetProperty("id").GetString()}");
        return detail.GetProperty("inputs").GetProperty("in")[0].GetProperty("id").GetString()!;
    }

    private static async Task<List<JsonElement>> DeadLettersAsync(KoaljaTestServer server) =>
        (await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/dl/dead-letters")).EnumerateArray().ToList();

    private static async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(KoaljaTestServer server, string action, string query, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/pipelines/dl/dead-letters/{action}{query}");
        key ??= server.Server.Keys.Admin;
        if (key.Length > 0)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return await server.SendAsync(request);
    }
}
