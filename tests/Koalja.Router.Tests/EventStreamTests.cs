using System.Text.Json;

namespace Koalja.Router.Tests;

public sealed class EventStreamTests
{
    private static readonly string PipelineYaml = """
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: live}
        spec:
          tasks:
          - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
          - name: copy
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor: {image: alpine, command: ["/bin/sh", "-c", "cp {{.inputs.in.path}} {{.outputs.out.path}}"]}
          links: [{name: l, sourceRef: drop/file, destinationRef: copy/in}]
          types: [{name: text, protocol: File, format: Text}]
        """;

    [Fact]
    public async Task TheStreamShowsValuesAsTheyAreRecordedAndCatchesUpFromLastEventId()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(PipelineYaml));
        var first = await server.DropAsync("live", "drop", "one");
        await server.WaitIdleAsync("live");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        List<ServerSentEvent> seen;
        using (var stream = await OpenAsync(server, "api/pipelines/live/events?after=0", null, timeout.Token))
        {
            seen = [await NextAsync(stream, timeout.Token), await NextAsync(stream, timeout.Token)]; // recorded before: from the registry
            await server.DropAsync("live", "drop", "two");
            seen.Add(await NextAsync(stream, timeout.Token)); // live
            seen.Add(await NextAsync(stream, timeout.Token));
        }

        Assert.All(seen, e => Assert.Equal("io.koalja.value", e.Event));
        Assert.Equal([1L, 2L, 3L, 4L], seen.Select(e => e.Id));
        var events = seen.Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.Equal(first.GetProperty("id").GetString(), events[0].GetProperty("id").GetString());
        Assert.Equal(["drop", "copy", "drop", "copy"], events.Select(e => e.GetProperty("koaljatask").GetString()));
        Assert.Equal("/pipelines/default/live/tasks/copy", events[1].GetProperty("source").GetString());
        using (var http = new HttpClient())
        {
            Assert.Equal("two", await http.GetStringAsync(events[3].GetProperty("dataref").GetString()));
        }

        await server.DropAsync("live", "drop", "three");
        await server.WaitIdleAsync("live");
        using var resumed = await OpenAsync(server, "api/pipelines/live/events", "4", timeout.Token);
        Assert.Equal(5L, (await NextAsync(resumed, timeout.Token)).Id); // only what was missed since event 4
        Assert.Equal(6L, (await NextAsync(resumed, timeout.Token)).Id);
    }

    [Fact]
    public async Task AStreamOfAnUnknownPipelineIs404()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(PipelineYaml));
        using var response = await server.Http.GetAsync("api/pipelines/nope/events");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }

    private static async Task<StreamReader> OpenAsync(KoaljaTestServer server, string path, string? lastEventId, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
    }

    private static async Task<ServerSentEvent> NextAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        long? id = null;
        string? name = null;
        var data = "";
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is not null)
                {
                    return new ServerSentEvent(id ?? 0, name, data);
                }

                continue;
            }

            var (field, value) = line.IndexOf(':') is var i and >= 0 ? (line[..i], line[(i + 1)..].TrimStart()) : (line, "");
            switch (field)
            {
                case "id": id = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "event": name = value; break;
                case "data": data += value; break;
            }
        }

        throw new EndOfStreamException("The event stream ended.");
    }

    private sealed record ServerSentEvent(long Id, string Event, string Data);
}
