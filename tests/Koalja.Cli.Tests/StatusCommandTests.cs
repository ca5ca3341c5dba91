using Koalja.Core.Loading;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;

namespace Koalja.Cli.Tests;

/// <summary><c>koalja status</c> shows each task's worker slots as the scaling decision sets them.</summary>
public sealed class StatusCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "koalja-cli-status-" + Guid.NewGuid().ToString("N")[..8])).FullName; // not in /tmp: a sandboxed command has its own
    private LocalServer? _server;

    private string Data => Path.Combine(_dir, ".koalja");

    private string Gate => Path.Combine(_dir, "open");

    public async Task InitializeAsync()
    {
        var yaml = $$$"""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: gated}
            spec:
              tasks:
              - {name: fileDrop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: batch
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text, ready: Succeeded}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "while [ ! -e {{{Gate}}} ]; do sleep 0.02; done; cp {{.inputs.in.path}} {{.outputs.out.path}}"]}
              - name: window
                snapshotPolicy: SwapNew4Old
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text, ready: Succeeded}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "while [ ! -e {{{Gate}}} ]; do sleep 0.02; done; cp {{.inputs.in.path}} {{.outputs.out.path}}"]}
              links:
              - {name: toBatch, sourceRef: fileDrop/file, destinationRef: batch/in}
              - {name: toWindow, sourceRef: fileDrop/file, destinationRef: window/in}
              types: [{name: text, protocol: File, format: Text}]
            """;
        var file = Path.Combine(_dir, "gated.yaml");
        await File.WriteAllTextAsync(file, yaml);
        var pipeline = PipelineLoader.LoadFile(file).Pipelines[0].Pipeline;
        _server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = Data, Runtime = new RuntimeOptions { SlotsPerTask = 3 } }, [pipeline]);
    }

    public async Task DisposeAsync()
    {
        File.WriteAllText(Gate, "");
        await _server!.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task StatusShowsTheSlotsInUseOfTheAllowed()
    {
        var (_, idle, _) = await CliRunner.RunAsync("status", "gated", "--data", Data);
        Assert.Matches(@"batch +command +AllNew +0 +0 +0 +0/3 ", idle);
        Assert.Matches(@"window +command +SwapNew4Old +0 +0 +0 +0/1 ", idle);
        Assert.Matches(@"fileDrop +FileDrop +AllNew +0 +0 +0 +- ", idle);

        var files = Enumerable.Range(0, 5).Select(i => Write($"f{i}.txt", $"value {i}\n")).ToArray();
        Assert.Equal(0, (await CliRunner.RunAsync(["drop", "gated/fileDrop", .. files, "--data", Data])).ExitCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string busy;
        do
        {
            await Task.Delay(50);
            (_, busy, _) = await CliRunner.RunAsync("status", "gated", "--data", Data);
            Assert.True(DateTime.UtcNow < deadline, busy);
        }
        while (!System.Text.RegularExpressions.Regex.IsMatch(busy, @"batch +command +AllNew +0 +5 +3 +3/3 "));

        Assert.Matches(@"window +command +SwapNew4Old +\d+ +\d +1 +1/1 ", busy); // an order-sensitive task: one slot
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
