using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;

namespace Koalja.Router.Tests;

/// <summary>
/// <c>koalja up --task-host functions</c>: every example pipeline gives the same values and lineage when its tasks run
/// in real Functions worker processes (the task function app under the embedded protocol host, reached over HTTP) as
/// when they run in process; a worker killed mid-run costs nothing but time.
/// </summary>
public sealed class FunctionsTaskHostTests
{
    public static TheoryData<string> Examples => new(Directory.GetFiles(Path.Combine(KoaljaTestServer.RepositoryRoot, "examples"), "*.yaml")
        .Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task AnExampleGivesTheSameValuesAndLineageOnBothTaskHosts(string example)
    {
        var inProcess = await RunAsync(example, LocalTaskHost.InProcess);
        var functions = await RunAsync(example, LocalTaskHost.Functions);

        Assert.Contains(inProcess, line => line.Contains(" <- ", StringComparison.Ordinal)); // something was computed from something
        Assert.Equal(inProcess, functions);
    }

    [Fact]
    public async Task AWorkerKilledDuringARunIsReplacedAndTheSnapshotIsRecordedOnce()
    {
        var pipeline = KoaljaTestServer.Load("""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: slow}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: upper
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor: {image: alpine, command: ["/bin/sh", "-c", "sleep 2; tr a-z A-Z < {{.inputs.in.path}} > {{.outputs.out.path}}"]}
              links: [{name: a, sourceRef: drop/file, destinationRef: upper/in}]
              types: [{name: text, protocol: File, format: Text}]
            """);
        await using var server = await KoaljaTestServer.StartAsync(pipeline, taskHost: LocalTaskHost.Functions);
        var first = server.Server.WorkerProcessId("slow", "upper");

        await server.DropAsync("slow", "drop", "killed mid-run\n");
        await WaitAsync(async () => (await Status(server, "upper")).GetProperty("running").GetInt64() == 1, "the execution to start");
        await Task.Delay(300); // the command is running in the worker now
        using (var worker = Process.GetProcessById(first))
        {
            worker.Kill(entireProcessTree: false); // SIGKILL, the worker alone
        }

        await server.WaitIdleAsync("slow", TimeSpan.FromSeconds(90));

        Assert.NotEqual(first, server.Server.WorkerProcessId("slow", "upper"));
        var value = Assert.Single(await server.ValuesAsync("slow", "upper"));
        Assert.Equal("KILLED MID-RUN\n", await server.ContentAsync(value.GetProperty("id").GetString()!));
        var task = await Status(server, "upper");
        Assert.Equal((1L, 0L), (task.GetProperty("succeeded").GetInt64(), task.GetProperty("deadLettered").GetInt64()));
        var execution = (await server.ValueAsync(value.GetProperty("id").GetString()!)).GetProperty("execution");
        Assert.Equal(("succeeded", 1), (execution.GetProperty("status").GetString(), execution.GetProperty("attempt").GetInt32())); // sent again to the new worker, no attempt spent
    }

    [Fact]
    public async Task APipelineOfDropsOnlyNeedsNoWorker()
    {
        var pipeline = KoaljaTestServer.Load("""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: drops}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              types: [{name: text, protocol: File, format: Text}]
            """);
        await using var server = await KoaljaTestServer.StartAsync(pipeline, taskHost: LocalTaskHost.Functions);

        await server.DropAsync("drops", "drop", "kept\n");

        Assert.Null(server.Server.Workers);
        Assert.Single(await server.ValuesAsync("drops", "drop"));
    }

    /// <summary>Drops each example's inputs in a fixed order and describes what came out: per task, each value's content and what it was computed from.</summary>
    private static async Task<List<string>> RunAsync(string example, LocalTaskHost host)
    {
        await using var receiver = await HttpReceiver.StartAsync();
        var yaml = File.ReadAllText(Path.Combine(KoaljaTestServer.RepositoryRoot, "examples", example + ".yaml"))
            .Replace("http://127.0.0.1:9090/", receiver.Url.ToString(), StringComparison.Ordinal); // the sink delivers to a receiver that answers
        var pipeline = KoaljaTestServer.Load(yaml);
        await using var server = await KoaljaTestServer.StartAsync(pipeline, new RuntimeOptions { RetryDelay = TimeSpan.FromMilliseconds(50), CommandTimeout = TimeSpan.FromSeconds(30), SlotsPerTask = 1 },
            taskHost: host);
        var drops = pipeline.Spec.Tasks.Where(t => t.Type == Core.Spec.BuiltInTaskTypes.FileDrop).Select(t => t.Name).ToList();
        for (var i = 0; i < 6; i++)
        {
            var content = example == "cloudevents" ? $$"""{"order": {{i}}, "items": [{"sku": "a"}{{string.Concat(Enumerable.Repeat(", {\"sku\": \"b\"}", i))}}]}""" : $"line {i}\nline {i}\nother {i % 2}\n";
            await server.DropAsync(pipeline.Name, drops[i % drops.Count], content, key: $"f{i}");
            await server.WaitIdleAsync(pipeline.Name, TimeSpan.FromSeconds(90)); // one at a time: the order of arrival is the same on both hosts
        }

        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        async Task<string> ContentOf(string id) => contents.TryGetValue(id, out var known) ? known : contents[id] = (await server.ContentAsync(id)).ReplaceLineEndings("\\n");
        var lines = new List<string>();
        foreach (var task in pipeline.Spec.Tasks)
        {
            var values = await server.ValuesAsync(pipeline.Name, task.Name);
            var described = new List<string>();
            foreach (var value in values)
            {
                var id = value.GetProperty("id").GetString()!;
                var sources = new List<string>();
                foreach (var source in await server.SourcesAsync(id))
                {
                    sources.Add(await ContentOf(source));
                }

                described.Add($"{task.Name}/{value.GetProperty("output").GetString()}: {await ContentOf(id)}" + (sources.Count > 0 ? " <- " + string.Join(" + ", sources) : ""));
            }

            lines.AddRange(described.Order(StringComparer.Ordinal));
            var status = await Status(server, task.Name);
            lines.Add($"{task.Name}: {status.GetProperty("succeeded").GetInt64()} succeeded, {status.GetProperty("deadLettered").GetInt64()} dead-lettered");
        }

        lines.Add($"deliveries: {receiver.Requests.Count}");
        return lines;
    }

    private static async Task<JsonElement> Status(KoaljaTestServer server, string task) =>
        (await server.Http.GetFromJsonAsync<JsonElement>($"api/pipelines/{server.Server.Router.Pipelines.Keys.Single()}")).GetProperty("tasks").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == task);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
