using System.Collections.Concurrent;
using System.Net;
using Koalja.Core.Contract;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Router.Dispatch;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Koalja.Router.Tests;

/// <summary>The HTTP dispatcher against a real HTTP server standing in for a task function (scripted answers).</summary>
public sealed class HttpDispatchTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly PipelineSpec Spec = PipelineLoader.LoadText("""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: http}
        spec:
          tasks:
          - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: count
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor: {command: ["/bin/sh", "-c", "wc -l < {{.inputs.in.path}} > {{.outputs.out.path}}"]}
          links: [{name: a, sourceRef: drop/file, destinationRef: count/in}]
          types: [{name: text, protocol: File, format: Text}]
        """, "http.yaml").Pipelines[0].Pipeline.Spec;

    private static TaskInvocation Invocation(string snapshot = "snap-1") => new("http", Spec, "count", "code-1", snapshot, 1,
        [new InvocationInput("in", [new InvocationValue("v1", new string('a', 64), 12, "text/plain", new ValueOrigin("drop", "file", 0, Started, "rev-1", "drop-code", null))])])
    { Revision = "rev-1" };

    private static readonly TaskOutcome Succeeded = new(true, [new ProducedValue("out", 0, new string('b', 64), 3, "text/plain")], Started, Started.AddSeconds(1), ExitCode: 0);

    [Fact]
    public async Task ASnapshotWaitsForAFunctionThatIsNotListeningYetAndSpendsNoAttempt()
    {
        var port = FreePort();
        using var functions = Dispatcher(new Uri($"http://127.0.0.1:{port}/count/"));
        var run = functions.RunAsync(Invocation(), CancellationToken.None);
        await Task.Delay(500); // refused connections meanwhile, as a task scaled to zero gives
        Assert.False(run.IsCompleted);

        await using var function = await ScriptedFunction.StartAsync(port, (_, invocation) => Answer(invocation, Succeeded));
        var outcome = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(Succeeded.Outputs, outcome.Outputs);
        var request = Assert.Single(function.Requests);
        Assert.Equal(("/count/api/snapshot", "snap-1"), (request.Path, request.SnapshotId));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", request.TraceParent);
    }

    [Fact]
    public async Task ThrottledAndUnavailableAnswersAreTriedAgainHonouringRetryAfter()
    {
        var calls = 0;
        await using var function = await ScriptedFunction.StartAsync(0, (http, invocation) =>
        {
            switch (Interlocked.Increment(ref calls))
            {
                case 1:
                    http.Response.Headers.RetryAfter = "1";
                    return Status(StatusCodes.Status429TooManyRequests);
                case 2:
                    return Status(StatusCodes.Status503ServiceUnavailable);
                default:
                    return Answer(invocation, Succeeded);
            }
        });
        using var functions = Dispatcher(function.Url);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var outcome = await functions.RunAsync(Invocation(), CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        Assert.Equal(3, function.Requests.Count);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"Retry-After: 1 was not honoured ({watch.Elapsed})");
    }

    [Fact]
    public async Task AFailedExecutionIsTheAttemptsOutcomeAndIsNotSentAgain()
    {
        var failed = new TaskOutcome(false, [], Started, Started.AddSeconds(1), ExitCode: 3, Error: "exit code 3", StderrTail: "wc: nope");
        await using var function = await ScriptedFunction.StartAsync(0, (_, invocation) => Answer(invocation, failed));
        using var functions = Dispatcher(function.Url);

        var outcome = await functions.RunAsync(Invocation(), CancellationToken.None);

        Assert.Equal((false, 3, "exit code 3", "wc: nope"), (outcome.Succeeded, outcome.ExitCode, outcome.Error, outcome.StderrTail));
        Assert.Single(function.Requests);
    }

    [Fact]
    public async Task AnAnswerOutsideTheContractFailsTheAttemptSayingWhatCame()
    {
        await using var function = await ScriptedFunction.StartAsync(0, (_, _) => Task.FromResult<IResult>(Results.Text("<html>no such app</html>", "text/html", statusCode: 404)));
        using var functions = Dispatcher(function.Url);

        var outcome = await functions.RunAsync(Invocation(), CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains("answered HTTP 404 that is not the task contract", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFunctionUnavailableLongerThanAllowedFailsTheAttemptWithTheLastReason()
    {
        await using var function = await ScriptedFunction.StartAsync(0, (_, _) => Status(StatusCodes.Status503ServiceUnavailable));
        using var functions = Dispatcher(function.Url, o => o with { UnavailableTimeout = TimeSpan.FromMilliseconds(600) });

        var outcome = await functions.RunAsync(Invocation(), CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains("was unavailable for 00:00:00.6", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", outcome.Error, StringComparison.Ordinal);
        Assert.True(function.Requests.Count >= 2, $"only {function.Requests.Count} request(s)");
    }

    [Fact]
    public async Task NoMoreSnapshotsThanAllowedAreInFlightToOneTask()
    {
        var inFlight = 0;
        var most = 0;
        await using var function = await ScriptedFunction.StartAsync(0, async (_, invocation) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            await Task.Delay(150);
            Interlocked.Decrement(ref inFlight);
            return await Answer(invocation, Succeeded);
        });
        using var functions = Dispatcher(function.Url, o => o with { MaxInFlightPerTask = 2 });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => functions.RunAsync(Invocation($"snap-{i}"), CancellationToken.None)));

        Assert.All(outcomes, o => Assert.True(o.Succeeded, o.Error));
        Assert.Equal(6, function.Requests.Count);
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task NoAnswerInTheTimeoutFailsTheAttempt()
    {
        await using var function = await ScriptedFunction.StartAsync(0, async (http, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), http.RequestAborted);
            return Results.Ok();
        });
        using var functions = Dispatcher(function.Url, o => o with { Timeout = TimeSpan.FromMilliseconds(300) });

        var outcome = await functions.RunAsync(Invocation(), CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Contains("no answer from the task function", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithReplicasResolvedEachSnapshotGoesToTheLeastBusyAndTheRouterKnowsWhichRunsWhat()
    {
        var port = FreePort();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<HttpContext, TaskInvocation, Task<IResult>> held = async (_, invocation) =>
        {
            await release.Task;
            return await Answer(invocation, Succeeded);
        };
        var (one, two) = (IPAddress.Parse("127.0.0.1"), IPAddress.Parse("127.0.0.2")); // two replicas, as a headless Service's name resolves
        await using var first = await ScriptedFunction.StartAsync(port, held, one);
        await using var second = await ScriptedFunction.StartAsync(port, held, two);
        IPAddress[] ready = [];
        var url = new Uri($"http://count-fn.koalja.test:{port}/count/");
        using var functions = Dispatcher(url, o => o with { ResolveReplicas = (host, _) => Task.FromResult(host == "count-fn.koalja.test" ? ready : []) });

        var waiting = functions.RunAsync(Invocation("snap-0"), CancellationToken.None);
        await Task.Delay(300); // no replica ready (scaled to zero): the snapshot waits, spending no attempt
        Assert.False(waiting.IsCompleted);
        Assert.Empty(functions.Running("http", "count"));

        ready = [one, two];
        var runs = Enumerable.Range(1, 3).Select(i => functions.RunAsync(Invocation($"snap-{i}"), CancellationToken.None)).Prepend(waiting).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (first.Requests.Count + second.Requests.Count < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{first.Requests.Count} + {second.Requests.Count} requests");
            await Task.Delay(20);
        }

        Assert.Equal((2, 2), (first.Requests.Count, second.Requests.Count)); // the least busy each time
        Assert.All(first.Requests.Concat(second.Requests), r => Assert.Equal($"count-fn.koalja.test:{port}", r.Host));
        var running = functions.Running("http", "count");
        Assert.Equal(4, running.Count);
        Assert.Equal(first.Requests.Select(r => r.SnapshotId).Order(StringComparer.Ordinal),
            running.Where(r => r.Replica == "127.0.0.1").Select(r => r.Snapshot).Order(StringComparer.Ordinal));
        Assert.Equal(second.Requests.Select(r => r.SnapshotId).Order(StringComparer.Ordinal),
            running.Where(r => r.Replica == "127.0.0.2").Select(r => r.Snapshot).Order(StringComparer.Ordinal));

        release.SetResult();
        Assert.All(await Task.WhenAll(runs), o => Assert.True(o.Succeeded, o.Error));
        Assert.Empty(functions.Running("http", "count"));
    }

    private static HttpTaskFunctions Dispatcher(Uri url, Func<HttpDispatchOptions, HttpDispatchOptions>? change = null)
    {
        var options = new HttpDispatchOptions { FunctionUrl = (_, _) => url, Backoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromSeconds(2) };
        return new HttpTaskFunctions(new HttpClient(), change?.Invoke(options) ?? options, TimeProvider.System, NullLogger<HttpTaskFunctions>.Instance);
    }

    private static Task<IResult> Answer(TaskInvocation invocation, TaskOutcome outcome)
    {
        var answer = ExecutionAnswers.Answer(invocation, outcome);
        return Task.FromResult<IResult>(new WithStatus(Results.Bytes(answer.Body.ToArray(), answer.ContentType), answer.Status));
    }

    private static Task<IResult> Status(int status) => Task.FromResult<IResult>(Results.Problem(statusCode: status, title: "not now"));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class WithStatus(IResult inner, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            return inner.ExecuteAsync(httpContext);
        }
    }

    private sealed record Received(string Path, string SnapshotId, string? TraceParent, string? Host = null);

    /// <summary>A task function's stand-in: decodes each snapshot and answers what the script says.</summary>
    private sealed class ScriptedFunction : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ScriptedFunction(WebApplication app, Uri url)
        {
            _app = app;
            Url = url;
        }

        public Uri Url { get; }

        public ConcurrentQueue<Received> Requests { get; } = new();

        public static async Task<ScriptedFunction> StartAsync(int port, Func<HttpContext, TaskInvocation, Task<IResult>> script, IPAddress? address = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(address ?? IPAddress.Loopback, port));
            var app = builder.Build();
            ScriptedFunction? self = null;
            app.MapPost("/{**path}", async (HttpContext http) =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                var invocation = SnapshotEvents.Decode(new ContractMessage(http.Request.ContentType ?? "", body.ToArray()));
                self!.Requests.Enqueue(new Received(http.Request.Path, invocation.SnapshotId, http.Request.Headers["traceparent"], http.Request.Host.Value));
                return await script(http, invocation);
            });
            await app.StartAsync();
            var url = app.Urls.First();
            self = new ScriptedFunction(app, new Uri(url.TrimEnd('/') + "/count/"));
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
