using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Koalja.Core.Loading;
using Koalja.Core.Spec;
using Koalja.Router.Hosting;
using Koalja.Router.Runtime;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Router.Tests;

/// <summary>A real local server (Kestrel on a free port, SQLite, local storage, /bin/sh) over a temporary data directory.</summary>
internal sealed class KoaljaTestServer : IAsyncDisposable
{
    private KoaljaTestServer(LocalServer server, string data, bool ownsData)
    {
        Server = server;
        Data = data;
        _ownsData = ownsData;
        Http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromMinutes(2) };
    }

    private readonly bool _ownsData;

    public LocalServer Server { get; }

    public string Data { get; }

    public HttpClient Http { get; }

    public static string RepositoryRoot => Testing.Repository.Root;

    public static Pipeline Example(string name) => Load(File.ReadAllText(Path.Combine(RepositoryRoot, "examples", name + ".yaml")));

    /// <summary>A pipeline <paramref name="name"/>: FileDrop <c>drop</c> (output <c>file</c>) → task <c>work</c> (input <c>in</c>, output <c>out</c>) running <paramref name="script"/> with /bin/sh.</summary>
    public static Pipeline OneCommand(string name, string script) => Load($$"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: {{name}}}
        spec:
          tasks:
          - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: work
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor:
              image: alpine
              command: ["/bin/sh", "-c", {{System.Text.Json.JsonSerializer.Serialize(script)}}]
          links: [{name: l, sourceRef: drop/file, destinationRef: work/in}]
          types: [{name: text, protocol: File, format: Text}]
        """);

    public static Pipeline Load(string yaml)
    {
        var result = PipelineLoader.LoadText(yaml, "test.yaml");
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return result.Pipelines.Single().Pipeline;
    }

    /// <summary>The task function app this test build goes with (built first: the project references it).</summary>
    public static string FunctionsApp => Path.Combine(RepositoryRoot, "functions", "Koalja.Functions", "bin",
#if DEBUG
        "Debug",
#else
        "Release",
#endif
        "net10.0");

    public static async Task<KoaljaTestServer> StartAsync(Pipeline pipeline, RuntimeOptions? runtime = null, string? data = null, string? registry = null, string? storage = null,
        TimeProvider? time = null, LocalTaskHost taskHost = LocalTaskHost.InProcess, int? scalerPort = null, SandboxMode sandbox = SandboxMode.Auto,
        Action<Microsoft.Extensions.Logging.ILoggingBuilder>? logging = null)
    {
        var ownsData = data is null;
        data ??= Directory.CreateTempSubdirectory("koalja-it-").FullName;
        var server = await LocalServer.StartAsync(new LocalServerOptions
        {
            DataDirectory = data,
            Runtime = runtime ?? new RuntimeOptions { RetryDelay = TimeSpan.FromMilliseconds(50), CommandTimeout = TimeSpan.FromSeconds(30) },
            Registry = registry,
            Storage = storage,
            Time = time ?? TimeProvider.System,
            TaskHost = taskHost,
            FunctionsApp = taskHost == LocalTaskHost.Functions ? FunctionsApp : null,
            ScalerPort = scalerPort,
            Sandbox = sandbox,
        }, [pipeline], logging);
        return new KoaljaTestServer(server, data, ownsData);
    }

    public async Task<JsonElement> DropAsync(string pipeline, string task, string content, string? key = null, string? fileName = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"pipelines/{pipeline}/{task}") { Content = new StringContent(content, Encoding.UTF8, "text/plain") };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        if (fileName is not null)
        {
            request.Headers.Add("X-Koalja-Filename", Uri.EscapeDataString(fileName));
        }

        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Waits until no snapshot of the pipeline is pending or running (twice in a row).</summary>
    public async Task<JsonElement> WaitIdleAsync(string pipeline, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var idle = 0;
        while (true)
        {
            var json = await Http.GetFromJsonAsync<JsonElement>($"api/pipelines/{pipeline}");
            var busy = json.GetProperty("tasks").EnumerateArray().Any(t => t.GetProperty("pending").GetInt64() > 0 || t.GetProperty("running").GetInt64() > 0);
            idle = busy ? 0 : idle + 1;
            if (idle >= 2)
            {
                return json;
            }

            Assert.True(DateTime.UtcNow < deadline, $"pipeline {pipeline} still busy: {json}");
            await Task.Delay(50);
        }
    }

    public async Task<List<JsonElement>> ValuesAsync(string pipeline, string task)
    {
        var page = await Http.GetFromJsonAsync<JsonElement>($"api/pipelines/{pipeline}/values?task={task}&limit=1000");
        return page.GetProperty("values").EnumerateArray().ToList();
    }

    /// <summary>PUTs code into a task with the admin key (or <paramref name="key"/>, "" for none); returns the status and the JSON answer.</summary>
    public async Task<(System.Net.HttpStatusCode Status, JsonElement Json)> PutCodeAsync(string pipeline, string task, byte[] code, string query = "", string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/pipelines/{pipeline}/tasks/{task}/code{query}") { Content = new ByteArrayContent(code) };
        key ??= Server.Keys.Admin;
        if (key.Length > 0)
        {
            request.Headers.Add("x-functions-key", key);
        }

        return await SendAsync(request);
    }

    public async Task<(System.Net.HttpStatusCode Status, JsonElement Json)> SendAsync(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    public Task<string> ContentAsync(string valueId) => Http.GetStringAsync($"api/values/{valueId}/content");

    public Task<JsonElement> ValueAsync(string valueId) => Http.GetFromJsonAsync<JsonElement>($"api/values/{valueId}");

    /// <summary>The ids of the values a value was computed from, on every input, in order.</summary>
    public async Task<List<string>> SourcesAsync(string valueId)
    {
        var detail = await ValueAsync(valueId);
        return detail.GetProperty("inputs").EnumerateObject().SelectMany(i => i.Value.EnumerateArray().Select(v => v.GetProperty("id").GetString()!)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        if (_ownsData)
        {
            Directory.Delete(Data, recursive: true);
        }
    }
}
