using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Koalja.Core.Loading;
using Koalja.Router.Hosting;

namespace Koalja.Cli.Tests;

/// <summary>The README's CloudEvents tour: examples/cloudevents.yaml fed in binary and structured mode, its sink delivering to <c>koalja listen</c>.</summary>
public sealed class CloudEventsExampleTests
{
    [Fact]
    public async Task OrdersPostedAsCloudEventsAreCountedAndTheCountsReachKoaljaListen()
    {
        var port = FreePort();
        var yaml = File.ReadAllText(Path.Combine(Testing.Repository.Root, "examples", "cloudevents.yaml"))
            .Replace("http://127.0.0.1:9090/orders", $"http://127.0.0.1:{port}/orders", StringComparison.Ordinal);
        var data = Directory.CreateTempSubdirectory("koalja-ce-").FullName;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var listen = CliApp.RunAsync(["listen", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], stdout, stderr, stop.Token);
        try
        {
            await using var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = data }, [PipelineLoader.LoadText(yaml, "cloudevents.yaml").Pipelines[0].Pipeline]);
            using var http = new HttpClient { BaseAddress = server.Url };

            using var binary = new HttpRequestMessage(HttpMethod.Post, "api/pipelines/cloudevents/events")
            {
                Content = new StringContent("""{"items": [{"sku": "apple"}, {"sku": "pear"}]}""", Encoding.UTF8, "application/json"),
            };
            foreach (var (name, value) in new[] { ("ce-specversion", "1.0"), ("ce-id", "order-1001"), ("ce-source", "/shop/checkout"), ("ce-type", "com.example.order.placed") })
            {
                binary.Headers.Add(name, value);
            }

            using var first = await http.SendAsync(binary);
            var structured = """{"specversion": "1.0", "id": "order-1002", "source": "/shop/checkout", "type": "com.example.order.placed", "data": {"items": [{"sku": "fig"}]}}""";
            using var second = await http.PostAsync("api/pipelines/cloudevents/events", Json(structured));
            using var again = await http.PostAsync("api/pipelines/cloudevents/events", Json(structured));
            using var invalid = await http.PostAsync("api/pipelines/cloudevents/events",
                Json("""{"specversion": "1.0", "ID": "order-1003", "source": "/shop/checkout", "type": "com.example.order.placed"}"""));

            Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.BadRequest),
                (first.StatusCode, second.StatusCode, again.StatusCode, invalid.StatusCode));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Count(stdout, "io.koalja.value  /pipelines/default/cloudevents/tasks/countItems") < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"koalja listen printed:\n{Text(stdout)}\n{stderr}");
                await Task.Delay(50);
            }
        }
        finally
        {
            await stop.CancelAsync();
            Assert.Equal(0, await listen);
            Directory.Delete(data, recursive: true);
        }

        var output = Text(stdout);
        Assert.Contains("data: 2 B  2⏎", output, StringComparison.Ordinal);
        Assert.Contains("data: 2 B  1⏎", output, StringComparison.Ordinal);
        Assert.Contains("koalja: pipeline=cloudevents task=countItems output=count index=0", output, StringComparison.Ordinal);
        Assert.Matches("causationid: [0-9a-f]{32}", output);
    }

    private static StringContent Json(string body)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/cloudevents+json");
        return content;
    }

    private static string Text(StringWriter writer)
    {
        lock (writer)
        {
            return writer.ToString();
        }
    }

    private static int Count(StringWriter writer, string text) => Text(writer).Split(text).Length - 1;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
