using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Koalja.Core.Contract;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Tests;

/// <summary>The real task function app under the protocol host, reached through the front door.</summary>
public sealed class LocalFunctionsHostTests(TaskFunctionHostFixture fixture) : IClassFixture<TaskFunctionHostFixture>
{
    private const string ProblemType = "https://koalja.dev/problems/functions-host/";

    [Fact]
    public async Task HealthAnswersThroughTheFrontDoorAtTheWorkersBaseUrl()
    {
        var baseUrl = fixture.Host.BaseUrl(TaskFunctionHostFixture.WorkerName);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/tasks/$", baseUrl.ToString());

        using var response = await fixture.Http.GetAsync("api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ready", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task WhatTheWorkerLogsArrivesInTheHostsLoggerOfThatWorker()
    {
        // The worker's own ILogger lines travel as RpcLog messages on the stream; none goes to its stdout.
        var started = await fixture.Logs.WaitForAsync(e => e.Category == "Koalja.Functions.tasks"
            && e.Values.GetValueOrDefault("WorkerCategory") == "Microsoft.Hosting.Lifetime" && e.Message.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(5));

        Assert.Equal(LogLevel.Information, started.Level);
        Assert.DoesNotContain(fixture.Logs.Entries, e => e.Category == "Koalja.Functions.tasks" && e.Values.ContainsKey("Stream"));
    }

    [Fact]
    public async Task AnUnknownRouteOrWorkerIsANotFoundProblem()
    {
        using var route = await fixture.Http.PostAsync("api/nothing-here", new StringContent("x"));
        using var worker = await fixture.Http.GetAsync(new Uri(fixture.Http.BaseAddress!, "/no-such-worker/api/health"));

        Assert.Equal(HttpStatusCode.NotFound, route.StatusCode);
        Assert.Equal("application/problem+json", route.Content.Headers.ContentType?.MediaType);
        var problem = await route.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ProblemType + "no-function", problem.GetProperty("type").GetString());
        Assert.Contains("api/nothing-here", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, worker.StatusCode);
        Assert.Equal(ProblemType + "no-worker", (await worker.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task AMethodTheFunctionDoesNotTakeIsRefusedWithTheOnesItTakes()
    {
        using var response = await fixture.Http.PostAsync("api/health", new StringContent("x"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET", response.Content.Headers.Allow.Single());
    }

    [Fact]
    public async Task ASnapshotWithABadBodyGetsTheFunctionsOwnBadRequestProblem()
    {
        using var response = await fixture.Http.PostAsync("api/snapshot", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ExecutionAnswers.ProblemMediaType, response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("not a CloudEvent", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(problem.TryGetProperty("type", out var type) && type.GetString()!.StartsWith(ProblemType, StringComparison.Ordinal), "the function's problem, not the host's");
    }

    [Fact]
    public async Task ASnapshotRunsItsCommandInTheWorkerAndIsAnsweredWithTheBatch()
    {
        using var snapshot = await Snapshots.EventAsync(TaskFunctionApp.StorePath(fixture.Root), "wc -l < {{.inputs.in.path}} > {{.outputs.out.path}}", "snap-wc");

        using var response = await fixture.Http.PostAsync("api/snapshot", snapshot);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = new ContractMessage(response.Content.Headers.ContentType!.ToString(), await response.Content.ReadAsByteArrayAsync(), (int)response.StatusCode);
        var outcome = ExecutionAnswers.Read(answer);
        Assert.True(outcome.Succeeded, outcome.Error);
        var output = Assert.Single(outcome.Outputs);
        Assert.Equal(("out", 2L), (output.Output, output.Size)); // "3\n"
        Assert.Equal(TaskFunctionHostFixture.PodName, outcome.Worker); // KOALJA_WORKER_NAME, for the execution's provenance
    }

    [Fact]
    public async Task TheDefaultWorkerIsAlsoServedAtTheRootAsTheFunctionsHostServesItsApp()
    {
        var root = new Uri(fixture.Http.BaseAddress!, "/");

        using var health = await fixture.Http.GetAsync(new Uri(root, "api/health"));
        using var missing = await fixture.Http.GetAsync(new Uri(root, "api/nothing-here"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ready", (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(ProblemType + "no-function", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task ABodyOverTheLimitIsRefusedBeforeItReachesTheWorker()
    {
        using var response = await fixture.Http.PostAsync("api/snapshot", new ByteArrayContent(new byte[TaskFunctionHostFixture.MaxBody + 1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(ProblemType + "too-large", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task ACallerThatGoesAwayCancelsItsInvocationAndTheCommandStops()
    {
        var marker = $"koalja-cancel-{Guid.NewGuid():N}";
        using var snapshot = await Snapshots.EventAsync(TaskFunctionApp.StorePath(fixture.Root), $"sleep 30; echo {marker}", "snap-sleep");
        using var caller = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var request = fixture.Http.PostAsync("api/snapshot", snapshot, caller.Token);

        // The command runs (a cancel that overtakes its invocation would be dropped by the worker); then the caller leaves.
        var sleeper = await Processes.WaitForAsync(marker, TimeSpan.FromSeconds(20)); // the shell running the command
        await Task.Delay(200);
        Assert.True(Processes.Alive(sleeper), "the command ended before the caller went away");
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        var sent = await fixture.Logs.WaitForAsync(e => e.Message.Contains("InvocationCancel sent", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        var id = sent.Values["InvocationId"];
        var ended = await fixture.Logs.WaitForAsync(e => e.Message.Contains("after its caller went away", StringComparison.Ordinal) && e.Values.GetValueOrDefault("InvocationId") == id, TimeSpan.FromSeconds(15));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"the invocation ended only after {clock.Elapsed}: {ended.Message}");
        Assert.False(Processes.Alive(sleeper), "the command was not stopped");
    }
}
