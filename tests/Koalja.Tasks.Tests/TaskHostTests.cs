using System.Text;
using Koalja.Core.Contract;
using Koalja.Core.Loading;
using Koalja.Core.Spec;

namespace Koalja.Tasks.Tests;

/// <summary>The task function's side of the contract, as <c>koalja up</c> runs it in process and the Functions app behind HTTP.</summary>
public sealed class TaskHostTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly PipelineSpec Spec = PipelineLoader.LoadText("""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: host}
        spec:
          tasks:
          - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: count
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}, {name: log, typeRef: text}]
            executor: {command: ["/bin/sh", "-c", "wc -l < {{.inputs.in.path}} > {{.outputs.out.path}}"]}
          links: [{name: a, sourceRef: drop/file, destinationRef: count/in}]
          types: [{name: text, protocol: File, format: Text}]
        """, "host.yaml").Pipelines[0].Pipeline.Spec;

    private static readonly TaskInvocation Invocation = new("host", Spec, "count", "code-1", "snap-7", 2,
        [new InvocationInput("in", [new InvocationValue("v1", new string('a', 64), 12, "text/plain", new ValueOrigin("drop", "file", 0, Started, "rev-1", "drop-code", null))])])
    { Revision = "rev-1" };

    [Fact]
    public async Task ASucceededExecutionIsAnsweredWithItsValuesAndExecutionAsABatch()
    {
        var outcome = new TaskOutcome(true, [new ProducedValue("out", 0, new string('b', 64), 3, "text/plain"), new ProducedValue("out", 1, new string('c', 64), 4, "text/plain")],
            Started, Started.AddMilliseconds(1234.5678), ExitCode: 0, LogSha256: new string('d', 64));
        var runner = new Recording(outcome);

        var answer = await new TaskHost(runner, TimeProvider.System).HandleAsync(SnapshotEvents.Encode(Invocation), CancellationToken.None);

        Assert.Equal(200, answer.Status);
        Assert.StartsWith("application/cloudevents-batch+json", answer.ContentType, StringComparison.Ordinal);
        Assert.Equal(("snap-7", 2, "code-1", "v1"), (runner.Received!.SnapshotId, runner.Received.Attempt, runner.Received.CodeVersion, runner.Received.Inputs[0].Values[0].ValueId));
        var back = ExecutionAnswers.Read(answer);
        Assert.True(back.Succeeded);
        Assert.Equal(outcome.Outputs, back.Outputs);
        Assert.Equal((outcome.StartedAt, outcome.FinishedAt, outcome.ExitCode, outcome.LogSha256), (back.StartedAt, back.FinishedAt, back.ExitCode, back.LogSha256));
    }

    [Fact]
    public async Task ABinaryModeSnapshotOverHttpRunsAsTheStructuredOneDoes()
    {
        var structured = SnapshotEvents.Encode(Invocation);
        using var evt = System.Text.Json.JsonDocument.Parse(structured.Body);
        var root = evt.RootElement;
        var headers = new List<KeyValuePair<string, IReadOnlyList<string>>>();
        foreach (var name in new[] { "specversion", "id", "source", "type", "koaljaattempt" })
        {
            headers.Add(KeyValuePair.Create("ce-" + name, (IReadOnlyList<string>)[root.GetProperty(name).ToString()]));
        }

        var data = Encoding.UTF8.GetBytes(root.GetProperty("data").GetRawText());
        var runner = new Recording(new TaskOutcome(true, [], Started, Started, ExitCode: 0));

        var answer = await new TaskHost(runner, TimeProvider.System).HandleHttpAsync("application/json", headers, data, CancellationToken.None);

        Assert.Equal(200, answer.Status);
        Assert.Equal(("snap-7", 2, "code-1"), (runner.Received!.SnapshotId, runner.Received.Attempt, runner.Received.CodeVersion));
    }

    [Fact]
    public async Task AnHttpRequestThatIsNotACloudEventIsRefusedSayingHowToSendOne()
    {
        var answer = await new TaskHost(new Recording(new TaskOutcome(true, [], Started, Started)), TimeProvider.System)
            .HandleHttpAsync("application/json", [], Encoding.UTF8.GetBytes("{}"), CancellationToken.None);

        Assert.Equal(400, answer.Status);
        Assert.Contains("not a CloudEvent", ExecutionAnswers.Read(answer).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailedExecutionIsAnsweredWithAProblemThatKeepsWhyItFailed()
    {
        var outcome = new TaskOutcome(false, [], Started, Started.AddSeconds(1), ExitCode: 3, Error: "exit code 3", StderrTail: "wc: no such file", LogSha256: new string('e', 64));

        var answer = await new TaskHost(new Recording(outcome), TimeProvider.System).HandleAsync(SnapshotEvents.Encode(Invocation), CancellationToken.None);

        Assert.Equal((422, ExecutionAnswers.ProblemMediaType), (answer.Status, answer.ContentType));
        var back = ExecutionAnswers.Read(answer);
        Assert.Equal((false, 3, "exit code 3", "wc: no such file", outcome.LogSha256), (back.Succeeded, back.ExitCode, back.Error, back.StderrTail, back.LogSha256));
    }

    [Fact]
    public async Task ARunnerThatThrowsIsAFailedExecutionNotACrash()
    {
        var answer = await new TaskHost(new Recording(null), TimeProvider.System).HandleAsync(SnapshotEvents.Encode(Invocation), CancellationToken.None);

        Assert.Equal(422, answer.Status);
        Assert.Equal("the task runtime failed: broken runner", ExecutionAnswers.Read(answer).Error);
    }

    [Theory]
    [InlineData("application/json", "{}", "comes as application/cloudevents+json")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\"", "not a well-formed CloudEvent")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/s\",\"type\":\"io.koalja.value\"}", "Expected an io.koalja.snapshot event")]
    [InlineData("not a media type", "{}", "is not a media type")]
    public async Task AMessageThatIsNotASnapshotIsRefusedAndNothingRuns(string contentType, string body, string reason)
    {
        var runner = new Recording(null);

        var answer = await new TaskHost(runner, TimeProvider.System).HandleAsync(new ContractMessage(contentType, Encoding.UTF8.GetBytes(body)), CancellationToken.None);

        Assert.Equal((400, ExecutionAnswers.ProblemMediaType), (answer.Status, answer.ContentType));
        Assert.Null(runner.Received);
        var back = ExecutionAnswers.Read(answer);
        Assert.False(back.Succeeded);
        Assert.StartsWith("the task function refused the snapshot: ", back.Error, StringComparison.Ordinal);
        Assert.Contains(reason, back.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheInProcessTaskFunctionHandsTheRunnerWhatTheRouterSent()
    {
        var outcome = new TaskOutcome(true, [new ProducedValue("out", 0, new string('b', 64), 3, "text/plain")], Started, Started, ExitCode: 0);
        var runner = new Recording(outcome);

        var back = await new InProcessTaskFunction(new TaskHost(runner, TimeProvider.System)).RunAsync(Invocation, CancellationToken.None);

        Assert.Equal(outcome.Outputs, back.Outputs);
        Assert.Equal(Invocation with { Spec = runner.Received!.Spec, Inputs = runner.Received.Inputs }, runner.Received);
        Assert.Equal(Invocation.Inputs.Single().Values, runner.Received.Inputs.Single().Values);
        Assert.Equal(Invocation.TaskSpec.Executor!.Command, runner.Received.TaskSpec.Executor!.Command);
    }

    /// <summary>The one-method seam: what the runner was asked to run, and what it answers (null: it throws).</summary>
    private sealed class Recording(TaskOutcome? outcome) : ITaskRunner
    {
        public TaskInvocation? Received { get; private set; }

        public Task<TaskOutcome> RunAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            if (outcome is null && Received is null && invocation.SnapshotId == "snap-7")
            {
                Received = invocation;
                throw new InvalidOperationException("broken runner");
            }

            Received = invocation;
            return Task.FromResult(outcome!);
        }
    }
}
