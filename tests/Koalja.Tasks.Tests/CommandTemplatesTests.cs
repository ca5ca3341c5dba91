using System.Text;
using Koalja.Core.Contract;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Storage;

namespace Koalja.Tasks.Tests;

/// <summary>A command's templates are parsed once per code version, not once per execution.</summary>
public sealed class CommandTemplatesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-templates-").FullName;
    private readonly LocalArtifactStore _store;
    private readonly CommandRunner _runner;

    public CommandTemplatesTests()
    {
        _store = new LocalArtifactStore(Path.Combine(_dir, "blobs"));
        var options = new TaskRuntimeOptions { WorkRoot = Path.Combine(_dir, "work"), CommandTimeout = TimeSpan.FromSeconds(30) };
        _runner = new CommandRunner(_store, new CodeCache(Path.Combine(_dir, "code"), _store), options, sandbox: null, TimeProvider.System);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ExecutionsOfOneCodeVersionParseItsCommandOnce()
    {
        var spec = Spec("cat {{.inputs.in.path}} > {{.outputs.out.path}}");

        foreach (var content in new[] { "one", "two", "three" })
        {
            Assert.Equal(content, await RunAsync(spec, "v1", content));
        }

        Assert.Equal(1, _runner.Templates.Parses);
    }

    [Fact]
    public async Task ANewCodeVersionIsParsedAgain()
    {
        await RunAsync(Spec("cat {{.inputs.in.path}} > {{.outputs.out.path}}"), "v1", "x");
        Assert.Equal("x!", await RunAsync(Spec("{ cat {{.inputs.in.path}}; printf '!'; } > {{.outputs.out.path}}"), "v2", "x"));
        await RunAsync(Spec("cat {{.inputs.in.path}} > {{.outputs.out.path}}"), "v1", "y");

        Assert.Equal(2, _runner.Templates.Parses);
    }

    [Fact]
    public async Task WorkerSlotsRunningOneNewVersionAtOnceParseItOnce()
    {
        var spec = Spec("cat {{.inputs.in.path}} > {{.outputs.out.path}}");

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => RunAsync(spec, "v1", $"slot {i}"))));

        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"slot {i}"), results);
        Assert.Equal(1, _runner.Templates.Parses);
    }

    [Fact]
    public void CallersAskingForOneNewVersionTogetherShareOneParse()
    {
        const int Versions = 300, Callers = 4;
        var templates = new CommandTemplates();
        using var barrier = new Barrier(Callers);

        var seen = new ParsedCommand[Callers, Versions];
        Parallel.For(0, Callers, new ParallelOptions { MaxDegreeOfParallelism = Callers }, caller =>
        {
            for (var v = 0; v < Versions; v++)
            {
                barrier.SignalAndWait();
                seen[caller, v] = templates.For($"v{v}", ["/bin/sh", "-c", "cat {{.inputs.in.path}} > {{.outputs.out.path}}"]);
            }
        });

        Assert.Equal(Versions, templates.Parses);
        Assert.All(Enumerable.Range(0, Versions), v => Assert.All(Enumerable.Range(1, Callers - 1), c => Assert.Same(seen[0, v], seen[c, v])));
    }

    [Fact]
    public async Task AVersionIdReusedForAnotherCommandStillRunsThatCommand()
    {
        await RunAsync(Spec("cat {{.inputs.in.path}} > {{.outputs.out.path}}"), "same", "x");

        Assert.Equal("x?", await RunAsync(Spec("{ cat {{.inputs.in.path}}; printf '?'; } > {{.outputs.out.path}}"), "same", "x"));
    }

    [Fact]
    public void TheCacheHoldsAtMostItsCapacityOfVersions()
    {
        var templates = new CommandTemplates(capacity: 2);

        for (var i = 0; i < 5; i++)
        {
            templates.For($"v{i}", ["echo", $"{{{{.snapshot.id}}}} {i}"]);
            Assert.InRange(templates.Count, 1, 2);
        }

        Assert.Equal(5, templates.Parses);
    }

    [Fact]
    public void AnInvalidTemplateIsReportedAtEveryExecutionButParsedOnce()
    {
        var templates = new CommandTemplates();

        var first = templates.For("v", ["echo", "{{.snapshot.id", "never"]);
        var second = templates.For("v", ["echo", "{{.snapshot.id", "never"]);

        Assert.Same(first, second);
        Assert.NotNull(first.Error);
        Assert.Single(first.Templates);
        Assert.Equal(1, templates.Parses);
    }

    private async Task<string> RunAsync(PipelineSpec spec, string codeVersion, string content)
    {
        var stored = await _store.PutAsync(new MemoryStream(Encoding.UTF8.GetBytes(content)));
        var invocation = new TaskInvocation("p", spec, "work", codeVersion, "snap-" + content, 1,
            [new InvocationInput("in", [new InvocationValue("v", stored.Sha256, stored.Size, "text/plain")])]);

        var outcome = await _runner.RunAsync(invocation, CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.Error);
        await using var stream = await _store.OpenReadAsync(Assert.Single(outcome.Outputs).Sha256);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    private static PipelineSpec Spec(string script)
    {
        var yaml = $$"""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: p}
            spec:
              tasks:
              - name: drop
                type: FileDrop
                outputs: [{name: file, typeRef: text}]
              - name: work
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor: {image: alpine, command: ["/bin/sh", "-c", {{System.Text.Json.JsonSerializer.Serialize(script)}}]}
              links: [{name: l, sourceRef: drop/file, destinationRef: work/in}]
              types: [{name: text, protocol: File, format: Text}]
            """;
        var result = PipelineLoader.LoadText(yaml, "test.yaml");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Pipelines[0].Pipeline.Spec;
    }
}
