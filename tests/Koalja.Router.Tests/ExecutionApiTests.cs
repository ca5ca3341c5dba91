using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Koalja.Router.Tests;

/// <summary>Executions as a resource: one with its inputs, outputs and log; a task's newest first, paged; values newest first.</summary>
public sealed class ExecutionApiTests
{
    private const string Script = "echo \"working on $(cat {{.inputs.in.path}})\"; echo 'a warning' >&2; if grep -q bad {{.inputs.in.path}}; then exit 3; fi; cp {{.inputs.in.path}} {{.outputs.out.path}}";

    [Fact]
    public async Task MetricsCountValuesExecutionsByOutcomeDurationsQueuesAndDeadLetters()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.OneCommand("measured", Script),
            new Router.Runtime.RuntimeOptions { MaxAttempts = 1 });
        await server.DropAsync("measured", "drop", "fine");
        await server.DropAsync("measured", "drop", "bad");
        await server.WaitIdleAsync("measured");

        using var response = await server.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');
        Assert.Contains("koalja_values_recorded_total{pipeline=\"measured\",task=\"drop\"} 2", lines);
        Assert.Contains("koalja_values_recorded_total{pipeline=\"measured\",task=\"work\"} 1", lines);
        Assert.Contains("koalja_executions_total{pipeline=\"measured\",task=\"work\",outcome=\"succeeded\"} 1", lines);
        Assert.Contains("koalja_executions_total{pipeline=\"measured\",task=\"work\",outcome=\"failed\"} 1", lines);
        Assert.Contains("koalja_execution_duration_seconds_count{pipeline=\"measured\",task=\"work\"} 2", lines);
        Assert.Contains("koalja_dead_letters{pipeline=\"measured\",task=\"work\"} 1", lines);
        Assert.Contains("koalja_snapshots_ready{pipeline=\"measured\",task=\"work\"} 0", lines);
        Assert.Contains("koalja_link_queued_values{pipeline=\"measured\",link=\"l\"} 0", lines);

        using var root = await server.Http.GetAsync("");
        Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
        Assert.Equal("application/problem+json", root.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task AnExecutionShowsItsInputsOutputsAndLogAndATasksAreNewestFirstInPages()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.OneCommand("logged", Script), new Router.Runtime.RuntimeOptions { MaxAttempts = 1, SlotsPerTask = 1 });
        var drops = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            drops.Add((await server.DropAsync("logged", "drop", $"file {i}")).GetProperty("id").GetString()!);
            await server.WaitIdleAsync("logged");
        }

        var value = (await server.ValuesAsync("logged", "work"))[0]; // the output of "file 0"
        var executionId = (await server.ValueAsync(value.GetProperty("id").GetString()!)).GetProperty("execution").GetProperty("id").GetString()!;

        var detail = await server.Http.GetFromJsonAsync<JsonElement>($"api/executions/{executionId}");
        var execution = detail.GetProperty("execution");
        Assert.Equal(("logged", "work", "succeeded", 0), (execution.GetProperty("pipeline").GetString(), execution.GetProperty("task").GetString(),
            execution.GetProperty("status").GetString(), execution.GetProperty("exitCode").GetInt32()));
        Assert.True(execution.GetProperty("durationMs").GetDouble() > 0);
        Assert.False(string.IsNullOrEmpty(execution.GetProperty("codeVersion").GetString()));
        var ranIn = execution.GetProperty("environment");
        Assert.Equal(Environment.MachineName, ranIn.GetProperty("host").GetString());
        Assert.False(string.IsNullOrEmpty(ranIn.GetProperty("os").GetString()));
        Assert.Equal("alpine", ranIn.GetProperty("image.named").GetString()); // named by the executor; the command ran on this host
        Assert.True(File.Exists(ranIn.GetProperty("program").GetString()), ranIn.ToString()); // /bin/sh, resolved
        Assert.Equal(drops[0], Assert.Single(detail.GetProperty("inputs").GetProperty("in").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(value.GetProperty("id").GetString(), Assert.Single(detail.GetProperty("outputs").EnumerateArray()).GetProperty("id").GetString());

        using var log = await server.Http.GetAsync($"api/executions/{executionId}/log");
        Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        Assert.StartsWith("text/plain", log.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var text = await log.Content.ReadAsStringAsync();
        Assert.Contains("working on file 0", text, StringComparison.Ordinal);
        Assert.Contains("a warning", text, StringComparison.Ordinal);

        // A failed execution is listed too, with its exit code; the list is newest first and pages by `before`.
        await server.DropAsync("logged", "drop", "bad");
        await server.WaitIdleAsync("logged");
        var first = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/logged/tasks/work/executions?limit=2");
        var page1 = first.GetProperty("executions").EnumerateArray().ToList();
        Assert.Equal(2, page1.Count);
        Assert.Equal(("failed", 3), (page1[0].GetProperty("status").GetString(), page1[0].GetProperty("exitCode").GetInt32()));
        var second = await server.Http.GetFromJsonAsync<JsonElement>($"api/pipelines/logged/tasks/work/executions?limit=2&before={first.GetProperty("next").GetString()}");
        var page2 = second.GetProperty("executions").EnumerateArray().ToList();
        Assert.Equal(2, page2.Count);
        Assert.False(second.TryGetProperty("next", out _)); // the last page
        var all = page1.Concat(page2).ToList();
        Assert.Equal(4, all.Select(e => e.GetProperty("id").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(all.Select(e => e.GetProperty("finished").GetDateTimeOffset()).OrderDescending(), all.Select(e => e.GetProperty("finished").GetDateTimeOffset()));
        Assert.Equal(executionId, all[^1].GetProperty("id").GetString());

        // Values newest first, paged by `before`.
        var newest = await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/logged/values?task=drop&order=newest&limit=2");
        var newestIds = newest.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("id").GetString()).ToList();
        var rest = await server.Http.GetFromJsonAsync<JsonElement>($"api/pipelines/logged/values?task=drop&order=newest&limit=2&before={newest.GetProperty("next").GetInt64()}");
        Assert.Equal(4, newestIds.Concat(rest.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("id").GetString())).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(drops[2], newestIds[1]);

        // Precise refusals.
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("api/executions/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("api/executions/nope/log")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("api/pipelines/logged/tasks/nope/executions")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("api/pipelines/logged/tasks/work/executions?before=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("api/pipelines/logged/tasks/work/executions?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Http.GetAsync("api/pipelines/logged/values?order=sideways")).StatusCode);
    }
}
