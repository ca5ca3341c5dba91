using System.Net;
using Koalja.Router.Hosting;
using Koalja.Storage;
using Koalja.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Tests;

/// <summary>
/// <c>koalja up --task-host remote</c>, as the router runs in the cluster: every snapshot goes over HTTP to task
/// functions running elsewhere. Here the function is a web app over the same <see cref="TaskHost"/> the Functions app
/// adapts, sharing the router's store.
/// </summary>
public sealed class RemoteTaskHostTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-remote-").FullName;

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task LinecountRunsInATaskFunctionElsewhereWithItsLineage()
    {
        var blobs = Path.Combine(_dir, "blobs");
        await using var function = await TaskFunctionApp.StartAsync(blobs, Path.Combine(_dir, "function"));
        var pipeline = KoaljaTestServer.Example("linecount");
        await using var server = await LocalServer.StartAsync(new LocalServerOptions
        {
            DataDirectory = Path.Combine(_dir, "data"),
            Storage = "local:" + blobs,
            TaskHost = LocalTaskHost.Remote,
            TaskUrls = new Dictionary<(string, string), Uri>
            {
                [("linecount", "removeDuplicates")] = function.Url,
                [("linecount", "countLines")] = function.Url,
            },
        }, [pipeline]);
        using var http = new HttpClient { BaseAddress = server.Url };
        using var drop = await http.PostAsync("pipelines/linecount/fileDropInput", new StringContent("a\na\nb\n"));
        Assert.Equal(HttpStatusCode.Created, drop.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (function.Snapshots < 2 || server.Router.Scaling("linecount", "countLines")!.Load.Work > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{function.Snapshots} snapshot(s) reached the function");
            await Task.Delay(20);
        }

        var page = await http.GetStringAsync("api/pipelines/linecount/values?task=countLines");
        var id = System.Text.Json.JsonDocument.Parse(page).RootElement.GetProperty("values")[0].GetProperty("id").GetString();
        Assert.Equal("2\n", (await http.GetStringAsync($"api/values/{id}/content")).TrimStart());
        var lineage = await http.GetStringAsync($"api/values/{id}/lineage");
        Assert.Contains("removeDuplicates", lineage, StringComparison.Ordinal);
        Assert.Contains("fileDropInput", lineage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATaskWithoutAUrlIsRefusedAtStartNamingIt()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => LocalServer.StartAsync(new LocalServerOptions
        {
            DataDirectory = Path.Combine(_dir, "data"),
            TaskHost = LocalTaskHost.Remote,
            TaskUrls = new Dictionary<(string, string), Uri> { [("linecount", "countLines")] = new("ftp://x/") },
        }, [KoaljaTestServer.Example("linecount")]));
        Assert.Contains("linecount/removeDuplicates has no task function URL", e.Message, StringComparison.Ordinal);
        Assert.Contains("'ftp://x/' is not an absolute http(s) URL", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A task function: <c>POST /api/snapshot</c> answered by <see cref="TaskHost"/> over a store shared with the router.</summary>
    private sealed class TaskFunctionApp : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TaskRuntime _runtime;
        private int _snapshots;

        private TaskFunctionApp(WebApplication app, TaskRuntime runtime, Uri url)
        {
            _app = app;
            _runtime = runtime;
            Url = url;
        }

        public Uri Url { get; }

        public int Snapshots => Volatile.Read(ref _snapshots);

        public static async Task<TaskFunctionApp> StartAsync(string blobs, string work)
        {
            var runtime = new TaskRuntime(new LocalArtifactStore(blobs), new TaskRuntimeOptions { WorkRoot = Path.Combine(work, "work"), CodeRoot = Path.Combine(work, "code") }, TimeProvider.System);
            var host = new TaskHost(runtime, TimeProvider.System);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            TaskFunctionApp? self = null;
            app.MapPost("/api/snapshot", async (HttpContext http) =>
            {
                Interlocked.Increment(ref self!._snapshots);
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                var headers = http.Request.Headers.Select(h => new KeyValuePair<string, IReadOnlyList<string>>(h.Key, h.Value.Select(v => v ?? "").ToList()));
                var answer = await host.HandleHttpAsync(http.Request.ContentType, headers, body.ToArray(), http.RequestAborted);
                http.Response.StatusCode = answer.Status;
                http.Response.ContentType = answer.ContentType;
                await http.Response.Body.WriteAsync(answer.Body);
            });
            await app.StartAsync();
            self = new TaskFunctionApp(app, runtime, new Uri(app.Urls.First().TrimEnd('/') + "/"));
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _runtime.Dispose();
        }
    }
}
