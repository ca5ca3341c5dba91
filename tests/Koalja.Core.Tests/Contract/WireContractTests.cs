using System.Net;
using System.Text;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Core.Events;
using Koalja.Core.Contract;

namespace Koalja.Tasks.Tests;

public sealed class WireContractTests
{
    private static readonly JsonEventFormatter Formatter = new();
    private static readonly DateTimeOffset Started = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static readonly PipelineSpec Spec = PipelineLoader.LoadText("""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: wire, namespace: lab}
        spec:
          tasks:
          - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: join
            inputs: [{name: left, typeRef: text, minSequenceLength: 2, maxSequenceLength: 3}, {name: right, typeRef: text}]
            outputs: [{name: out, typeRef: text, ready: Succeeded}]
            executor:
              image: alpine
              command: ["/bin/sh", "-c", "cat {{range .inputs.left}}{{.path}} {{end}} > {{.outputs.out.path}}"]
              env: [{name: MODE, value: fast}]
          links: [{name: a, sourceRef: drop/file, destinationRef: join/left}, {name: b, sourceRef: drop/file, destinationRef: join/right}]
          types: [{name: text, protocol: File, format: Text}]
        """, "wire.yaml").Pipelines[0].Pipeline.Spec;

    private static TaskInvocation Invocation(TaskCode? code = null) => new("wire", Spec, "join", code?.Version ?? "spec-version", "snap-1", 2,
        [
            new InvocationInput("left", [Value("v1", 'a'), Value("v2", 'b')]),
            new InvocationInput("right", [Value("v3", 'c')]),
        ], code)
    { Namespace = "lab", Revision = "rev-9", PipelineDirectory = "/home/ana/pipelines" };

    private static InvocationValue Value(string id, char hex) =>
        new(id, new string(hex, 64), 10, "text/plain", new ValueOrigin("drop", "file", 0, Started, "rev-9", "drop-code", null));

    [Theory]
    [InlineData(ContentMode.Binary, false)]
    [InlineData(ContentMode.Structured, false)]
    [InlineData(ContentMode.Binary, true)]
    public async Task ASnapshotEventCarriesTheWholeInvocationOverHttp(ContentMode mode, bool droppedCode)
    {
        var invocation = Invocation(droppedCode ? new TaskCode("dropped-1", CodeKind.TarGz, new string('d', 64), "bin/run.sh") : null);
        var evt = SnapshotEvents.Create(invocation, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");

        using var request = new HttpRequestMessage(HttpMethod.Post, "http://task") { Content = evt.ToHttpContent(mode, Formatter) };
        var received = await request.ToCloudEventAsync(Formatter, SnapshotEvents.Extensions);
        var back = SnapshotEvents.Read(received);

        Assert.Equal(("io.koalja.snapshot", "snap-1", "/pipelines/lab/wire/tasks/join"), (received.Type, received.Id, received.Source!.OriginalString));
        Assert.Equal(2, received[ValueEvents.Attempt]);
        Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", received[SnapshotEvents.TraceParent]);
        Assert.Equal((invocation.Pipeline, invocation.Namespace, invocation.Revision, invocation.Task, invocation.CodeVersion, invocation.SnapshotId, invocation.Attempt),
            (back.Pipeline, back.Namespace, back.Revision, back.Task, back.CodeVersion, back.SnapshotId, back.Attempt));
        Assert.Equal(invocation.Code, back.Code);
        Assert.Equal("/home/ana/pipelines", back.PipelineDirectory);
        Assert.Equal(invocation.Inputs.Select(i => (i.Name, string.Join(",", i.Values))), back.Inputs.Select(i => (i.Name, string.Join(",", i.Values))));
        Assert.Equal(PipelineSpecJson.Serialize(invocation.Spec), PipelineSpecJson.Serialize(back.Spec));
        Assert.Equal("fast", back.TaskSpec.Executor!.Env[0].Value);
    }

    [Fact]
    public async Task ASuccessfulAnswerIsABatchOfValueEventsAndTheExecutionAndReadsBackTheSame()
    {
        var invocation = Invocation();
        var outcome = new TaskOutcome(true,
            [new ProducedValue("out", 0, new string('e', 64), 12, "text/plain"), new ProducedValue("out", 1, new string('f', 64), 3_000_000_000, "application/json")],
            Started, Started.AddSeconds(3), 0, LogSha256: new string('1', 64));

        var content = ExecutionAnswers.ToHttpContent(invocation, outcome);
        var body = await content.ReadAsByteArrayAsync();
        HttpResponseMessage Response() => new(HttpStatusCode.OK) { Content = new ByteArrayContent(body) { Headers = { ContentType = content.Headers.ContentType } } };
        Assert.Equal("application/cloudevents-batch+json", content.Headers.ContentType!.MediaType);
        using var forEvents = Response();
        var events = await forEvents.ToCloudEventBatchAsync(Formatter, ValueEvents.Extensions);
        using var forOutcome = Response();
        var back = await ExecutionAnswers.ReadAsync(forOutcome);

        Assert.Equal(["io.koalja.value", "io.koalja.value", "io.koalja.execution"], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("snap-1", e[ValueEvents.CausationId]));
        Assert.Equal("sha256:" + new string('e', 64), ((Uri)events[0][ValueEvents.DataRef]!).OriginalString);
        Assert.Equal((outcome.Succeeded, outcome.StartedAt, outcome.FinishedAt, outcome.ExitCode, outcome.LogSha256),
            (back.Succeeded, back.StartedAt, back.FinishedAt, back.ExitCode, back.LogSha256));
        Assert.Equal(outcome.Outputs, back.Outputs);
    }

    [Fact]
    public async Task AFailedAnswerIsAProblemWithExitCodeStderrAndLog()
    {
        var outcome = new TaskOutcome(false, [], Started, Started.AddSeconds(1), 7, "exit code 7", "cannot parse line 3", new string('2', 64));

        using var response = new HttpResponseMessage(HttpStatusCode.UnprocessableEntity) { Content = ExecutionAnswers.ToHttpContent(Invocation(), outcome) };
        var back = await ExecutionAnswers.ReadAsync(response);

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(outcome, back with { Outputs = outcome.Outputs });
        Assert.Empty(back.Outputs);
    }

    [Theory]
    [InlineData(true, "linecount-countlines-5d8f7c9b4-x2k7q", "linecount-countlines-5d8f7c9b4-x2k7q")]
    [InlineData(false, "linecount-countlines-5d8f7c9b4-x2k7q", "linecount-countlines-5d8f7c9b4-x2k7q")]
    [InlineData(true, "Not A Pod; rm -rf /", null)]
    [InlineData(false, null, null)]
    public async Task TheWorkerAnAnswerNamesReadsBackWhenItIsAHostName(bool succeeded, string? worker, string? expected)
    {
        var outcome = new TaskOutcome(succeeded, [], Started, Started.AddSeconds(1), succeeded ? 0 : 1, succeeded ? null : "exit code 1", Worker: worker);

        using var response = new HttpResponseMessage(succeeded ? HttpStatusCode.OK : HttpStatusCode.UnprocessableEntity) { Content = ExecutionAnswers.ToHttpContent(Invocation(), outcome) };
        var back = await ExecutionAnswers.ReadAsync(response);

        Assert.Equal(expected, back.Worker);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WhereAnExecutionRanAndWhetherItsFailureIsPermanentReadBackKeepingOnlySmallPrintableEntries(bool succeeded)
    {
        var ranIn = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = "linecount-countlines-5d8f7c9b4-x2k7q",
            ["program"] = "/usr/bin/dash",
            ["bad key!"] = "dropped",
            ["control"] = "line\nbreak",
            ["long"] = new string('x', 300),
        };
        var outcome = new TaskOutcome(succeeded, [], Started, Started.AddSeconds(1), succeeded ? 0 : 127, succeeded ? null : "exit code 127", Permanent: !succeeded, Environment: ranIn);

        using var response = new HttpResponseMessage(succeeded ? HttpStatusCode.OK : HttpStatusCode.UnprocessableEntity) { Content = ExecutionAnswers.ToHttpContent(Invocation(), outcome) };
        var back = await ExecutionAnswers.ReadAsync(response);

        Assert.Equal(!succeeded, back.Permanent);
        Assert.False(back.Exhausted);
        Assert.Equal(["host", "program"], back.Environment!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("/usr/bin/dash", back.Environment["program"]);
    }

    [Fact]
    public async Task AFailureForWantOfDiskSpaceReadsBackAsSuch()
    {
        var outcome = new TaskOutcome(false, [], Started, Started.AddSeconds(1), 1, "exit code 1", "head: error writing 'standard output': No space left on device", Exhausted: true);
        using var response = new HttpResponseMessage(HttpStatusCode.UnprocessableEntity) { Content = ExecutionAnswers.ToHttpContent(Invocation(), outcome) };

        var back = await ExecutionAnswers.ReadAsync(response);

        Assert.True(back.Exhausted);
        Assert.False(back.Permanent);
    }

    [Theory]
    [InlineData("text/plain", "not json")]
    [InlineData("application/cloudevents-batch+json", "{}")]
    [InlineData("application/cloudevents-batch+json", "[]")]
    [InlineData("application/cloudevents-batch+json", """[{"specversion": "1.0", "id": "x", "source": "/pipelines/lab/wire/tasks/join", "type": "io.koalja.execution", "datacontenttype": "application/json", "data": {"startedAt": "2026-11-30T12:00:00Z", "finishedAt": "2026-11-30T12:00:01Z", "values": 1}}]""")]
    [InlineData("application/problem+json", "[1]")]
    public async Task AMalformedAnswerIsAFormatException(string mediaType, string body)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        await Assert.ThrowsAsync<FormatException>(() => ExecutionAnswers.ReadAsync(response));
    }

    [Fact]
    public void AValueEventReadsBackItsProvenance()
    {
        var data = new ValueEventData("lab", "wire", "join", "out", 3, "value-1", new string('a', 64), 5_000_000_000, "text/csv", Started, "rev", "code", "snap");

        var back = ValueEvents.Read(ValueEvents.Create(data, "http://127.0.0.1:1/api/values/value-1/content"));

        Assert.Equal(data, back);
    }

    [Fact]
    public void ASnapshotEventOfAnotherTypeOrWithoutDataIsRefused()
    {
        var evt = SnapshotEvents.Create(Invocation());
        evt.Type = "com.example.other";
        Assert.Throws<FormatException>(() => SnapshotEvents.Read(evt));
        evt.Type = "io.koalja.snapshot";
        evt.Data = null;
        Assert.Throws<FormatException>(() => SnapshotEvents.Read(evt));
    }
}
