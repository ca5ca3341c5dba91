using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Koalja.Router.Runtime;

namespace Koalja.Router.Tests;

public sealed class CloudEventSinkTests
{
    private static string Pipeline(Uri receiver, string mode) => $$$"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: sinktest}
        spec:
          tasks:
          - name: drop
            type: FileDrop
            outputs: [{name: file, typeRef: text}]
          - name: upper
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor: {image: alpine, command: ["/bin/sh", "-c", "tr a-z A-Z < {{.inputs.in.path}} > {{.outputs.out.path}}"]}
          - name: deliver
            type: CloudEventSink
            options: {url: "{{{receiver}}}hooks/koalja", mode: {{{mode}}}}
            inputs: [{name: value, typeRef: text}]
          links:
          - {name: toUpper, sourceRef: drop/file, destinationRef: upper/in}
          - {name: toSink, sourceRef: upper/out, destinationRef: deliver/value}
          types: [{name: text, protocol: File, format: Text}]
        """;

    [Fact]
    public async Task ABinaryModeSinkDeliversEachValueWithDatarefCausationAndProvenance()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline(receiver.Url, "binary")));

        await server.DropAsync("sinktest", "drop", "hello sink\n");
        await server.DropAsync("sinktest", "drop", "second value\n");
        await server.WaitIdleAsync("sinktest");

        var requests = await receiver.WaitForAsync(2);
        var values = await server.ValuesAsync("sinktest", "upper");
        Assert.Equal(2, requests.Count);
        foreach (var request in requests) // the two values run side by side: they may arrive in either order
        {
            var h = request.Headers;
            var value = Assert.Single(values, v => v.GetProperty("id").GetString() == h["ce-id"]);
            Assert.Equal(("POST", "/hooks/koalja"), (request.Method, request.Path));
            Assert.Equal(("1.0", "io.koalja.value", "/pipelines/default/sinktest/tasks/upper"), (h["ce-specversion"], h["ce-type"], h["ce-source"]));
            Assert.Equal(value.GetProperty("snapshotId").GetString(), h["ce-causationid"]);
            Assert.Equal(("out", "out", "upper", "sinktest"), (h["ce-subject"], h["ce-koaljaoutput"], h["ce-koaljatask"], h["ce-koaljapipeline"]));
            Assert.Equal(value.GetProperty("codeVersion").GetString(), h["ce-koaljacodeversion"]);
            Assert.Equal(value.GetProperty("sha256").GetString(), h["ce-koaljasha256"]);
            Assert.Equal("text/plain", h["content-type"]);
            Assert.Equal(value.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(request.Body))); // small content travels inline
            Assert.Equal(value.GetProperty("sha256").GetString(), await HashOfAsync(server, Uri.UnescapeDataString(h["ce-dataref"])));
        }

        Assert.Equal(["HELLO SINK\n", "SECOND VALUE\n"], requests.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).Order(StringComparer.Ordinal));
        var deliver = (await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/sinktest")).GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "deliver");
        Assert.Equal((2L, 0L), (deliver.GetProperty("succeeded").GetInt64(), deliver.GetProperty("deadLettered").GetInt64()));
    }

    [Fact]
    public async Task AStructuredModeSinkSendsOneJsonEventWhoseDatarefHashesToTheValue()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline(receiver.Url, "structured")));

        await server.DropAsync("sinktest", "drop", "structured\n");
        await server.WaitIdleAsync("sinktest");

        var request = Assert.Single(await receiver.WaitForAsync(1));
        var value = Assert.Single(await server.ValuesAsync("sinktest", "upper"));
        Assert.StartsWith("application/cloudevents+json", request.Headers["content-type"], StringComparison.Ordinal);
        var evt = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(("1.0", "io.koalja.value", value.GetProperty("id").GetString()),
            (evt.GetProperty("specversion").GetString(), evt.GetProperty("type").GetString(), evt.GetProperty("id").GetString()));
        Assert.Equal(value.GetProperty("snapshotId").GetString(), evt.GetProperty("causationid").GetString());
        Assert.Equal("STRUCTURED\n", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(evt.GetProperty("data_base64").GetString()!)));
        Assert.Equal(value.GetProperty("sha256").GetString(), await HashOfAsync(server, evt.GetProperty("dataref").GetString()!));
    }

    [Fact]
    public async Task AReceiverThatKeepsFailingDeadLettersTheDeliveryWithItsLog()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Status = StatusCodesFor.ServiceUnavailable;
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline(receiver.Url, "binary")),
            new RuntimeOptions { MaxAttempts = 2, RetryDelay = TimeSpan.FromMilliseconds(50) });

        await server.DropAsync("sinktest", "drop", "never delivered\n");
        await server.WaitIdleAsync("sinktest");

        Assert.Equal(6, receiver.Requests.Count); // 3 tries in each of 2 attempts
        var dead = Assert.Single((await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/sinktest/dead-letters")).EnumerateArray());
        Assert.Equal("deliver", dead.GetProperty("task").GetString());
        Assert.Contains("failed: 503 Service Unavailable", dead.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("try 3: 503 Service Unavailable", dead.GetProperty("stderrTail").GetString(), StringComparison.Ordinal);
    }

    private static async Task<string> HashOfAsync(KoaljaTestServer server, string dataRef)
    {
        Assert.StartsWith(server.Server.Url.ToString(), dataRef, StringComparison.Ordinal);
        using var http = new HttpClient();
        return Convert.ToHexStringLower(SHA256.HashData(await http.GetByteArrayAsync(dataRef)));
    }

    private static class StatusCodesFor
    {
        public const int ServiceUnavailable = (int)HttpStatusCode.ServiceUnavailable;
    }
}
